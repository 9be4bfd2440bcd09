/*
    down/002_sync_tables.sql                               SQL Server 2016 or later

    Undoes 002: drops the five app tables (with their indexes and constraints), children
    before parents so that no foreign key stands in the way:
      STG_MON_CustMasterSchedule_Subitems -> STG_MON_CustMasterSchedule
      -> MON_BatchProcessing, then MON_SyncState and MON_CustomerLock.
    ORDERS_UNIFIED is not touched, nor MON_SchemaVersion (000's table): from that, only
    002's row is removed.

    DESTRUCTIVE: batch history and sync state go with the tables. The script refuses
    to run while MON_BatchProcessing or MON_SyncState holds rows, unless @force is set
    to 1 below. Grants on these tables vanish with them (run down/003 first anyway).

    Idempotent: a table already gone is skipped; a second run changes nothing.
    One batch, one transaction (no GO).
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;

DECLARE @force BIT = 0;  -- 1: drop the tables even though they hold history and state

IF @force = 0
BEGIN
    DECLARE @rows INT = 0, @n INT;
    IF OBJECT_ID(N'dbo.MON_BatchProcessing', N'U') IS NOT NULL
    BEGIN
        EXEC sys.sp_executesql
            N'SELECT @n = COUNT(*) FROM dbo.MON_BatchProcessing;', N'@n INT OUTPUT',
            @n = @n OUTPUT;
        SET @rows += @n;
    END;
    IF OBJECT_ID(N'dbo.MON_SyncState', N'U') IS NOT NULL
    BEGIN
        EXEC sys.sp_executesql
            N'SELECT @n = COUNT(*) FROM dbo.MON_SyncState;', N'@n INT OUTPUT',
            @n = @n OUTPUT;
        SET @rows += @n;
    END;
    IF @rows > 0
        THROW 50021, N'MON_BatchProcessing / MON_SyncState still hold batch history or sync state: set @force = 1 to drop them anyway. Nothing was changed.', 1;
END;

BEGIN TRY
    BEGIN TRANSACTION;

    IF OBJECT_ID(N'dbo.STG_MON_CustMasterSchedule_Subitems', N'U') IS NOT NULL
    BEGIN
        DROP TABLE dbo.STG_MON_CustMasterSchedule_Subitems;
        PRINT N'dropped dbo.STG_MON_CustMasterSchedule_Subitems';
    END;

    IF OBJECT_ID(N'dbo.STG_MON_CustMasterSchedule', N'U') IS NOT NULL
    BEGIN
        DROP TABLE dbo.STG_MON_CustMasterSchedule;
        PRINT N'dropped dbo.STG_MON_CustMasterSchedule';
    END;

    IF OBJECT_ID(N'dbo.MON_BatchProcessing', N'U') IS NOT NULL
    BEGIN
        DROP TABLE dbo.MON_BatchProcessing;
        PRINT N'dropped dbo.MON_BatchProcessing';
    END;

    IF OBJECT_ID(N'dbo.MON_SyncState', N'U') IS NOT NULL
    BEGIN
        DROP TABLE dbo.MON_SyncState;
        PRINT N'dropped dbo.MON_SyncState';
    END;

    IF OBJECT_ID(N'dbo.MON_CustomerLock', N'U') IS NOT NULL
    BEGIN
        DROP TABLE dbo.MON_CustomerLock;
        PRINT N'dropped dbo.MON_CustomerLock';
    END;

    -- The run is no longer in the database: remove its record (000 made the table).
    IF OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NOT NULL
    BEGIN
        DELETE FROM dbo.MON_SchemaVersion WHERE script_number = 2;
        IF @@ROWCOUNT > 0
            PRINT N'removed 002_sync_tables.sql from dbo.MON_SchemaVersion';
    END;

    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
