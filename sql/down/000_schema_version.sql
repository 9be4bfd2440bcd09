/*
    down/000_schema_version.sql                            SQL Server 2016 or later

    Undoes 000: drops dbo.MON_SchemaVersion, the record of which scripts ran. Run it
    LAST, after down/005 to down/001 (in that order): each of those removes its own row, and
    this script refuses to run while the table still records another script (its row
    says that script's changes are still in the database), unless @force is set to 1
    below. Without this table the app (and 001, 002, 003) ask for 000 to be run again.

    Idempotent: when the table is gone already, nothing happens; a second run changes
    nothing. One batch, one transaction (no GO).
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;

DECLARE @force BIT = 0;  -- 1: drop the table even though it still records other scripts

IF @force = 0 AND OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NOT NULL
BEGIN
    DECLARE @others INT;
    EXEC sys.sp_executesql
        N'SELECT @n = COUNT(*) FROM dbo.MON_SchemaVersion WHERE script_number <> 0;',
        N'@n INT OUTPUT', @n = @others OUTPUT;
    IF @others > 0
        THROW 50006, N'dbo.MON_SchemaVersion still records other scripts: run their down scripts first (005 to 001), or set @force = 1. Nothing was changed.', 1;
END;

BEGIN TRY
    BEGIN TRANSACTION;

    IF OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NOT NULL
    BEGIN
        DROP TABLE dbo.MON_SchemaVersion;
        PRINT N'dropped dbo.MON_SchemaVersion';
    END
    ELSE
        PRINT N'dbo.MON_SchemaVersion does not exist: nothing to do';

    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
