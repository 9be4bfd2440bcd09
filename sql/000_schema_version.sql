/*
    000_schema_version.sql                                 SQL Server 2016 or later

    Creates dbo.MON_SchemaVersion, the record of which of these scripts ran in this
    database, and records itself in it as script 0. Run it FIRST: 001, 002 and 003 each
    record their own row at the end of their transaction, and refuse to run (changing
    nothing) while this table is missing.
      script_number  INT NOT NULL, the primary key: the script's number (0, 1, 2, 3 ...)
      script_name    NVARCHAR(100) NOT NULL: its file name
      applied_at     DATETIME2 NOT NULL: when it first ran (SYSDATETIME(), server time)
      applied_by     NVARCHAR(128) NOT NULL: the login that ran it (ORIGINAL_LOGIN())
    The app reads this table when it connects (SELECT only: on SQL Server only these
    scripts write it), compares it with what is really there, and names any script still
    to be run. A row with a number the app does not know means a newer orders-sync
    upgraded the database: the app then asks to be updated. Every down script removes
    its own row.

    Non-breaking: it only creates one new table; it touches no existing object.

    Idempotent: the table is created only when missing and the row is recorded only once
    (a second run keeps the first applied_at), so a second run changes nothing. One batch,
    one transaction (no GO). Undo: sql/down/000_schema_version.sql (the last down script).
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;
SET ANSI_NULLS ON;
SET ANSI_PADDING ON;
SET QUOTED_IDENTIFIER ON;

BEGIN TRY
    BEGIN TRANSACTION;

    IF OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NULL
    BEGIN
        CREATE TABLE dbo.MON_SchemaVersion (
            script_number INT NOT NULL,
            script_name NVARCHAR(100) NOT NULL,
            applied_at DATETIME2 NOT NULL,
            applied_by NVARCHAR(128) NOT NULL,
            CONSTRAINT PK_MON_SchemaVersion PRIMARY KEY CLUSTERED (script_number)
        );
        PRINT N'created dbo.MON_SchemaVersion';
    END
    ELSE
        PRINT N'dbo.MON_SchemaVersion already present: unchanged';

    -- The table may have been created just above: SQL Server compiles this statement when
    -- it reaches it (deferred name resolution), so one batch is enough.
    IF NOT EXISTS (SELECT 1 FROM dbo.MON_SchemaVersion WHERE script_number = 0)
    BEGIN
        INSERT INTO dbo.MON_SchemaVersion (script_number, script_name, applied_at, applied_by)
        VALUES (0, N'000_schema_version.sql', SYSDATETIME(), ORIGINAL_LOGIN());
        PRINT N'recorded 000_schema_version.sql in dbo.MON_SchemaVersion';
    END
    ELSE
        PRINT N'000_schema_version.sql already recorded in dbo.MON_SchemaVersion';

    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
