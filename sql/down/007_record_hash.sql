/*
    down/007_record_hash.sql                               SQL Server 2016 or later

    Undoes 007: dbo.ORDERS_UNIFIED.record_hash goes back to what 001 made (VARCHAR(64)
    NULL, unused by the app), IX_ORDERS_UNIFIED_uuid_hash and the column's extended
    property orders_sync_basis are dropped, then dbo.MON_SyncState.db_hash, then 007's
    row in dbo.MON_SchemaVersion. Every sync state row is kept (its app hash decides, as
    before 007). What is lost: detection reads and hashes every row again.

    Idempotent: each step checks first; a second run changes nothing. One batch, one
    transaction (no GO). Dropping the computed column is a metadata change; adding
    the nullable VARCHAR back is too.
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;

BEGIN TRY
    BEGIN TRANSACTION;

    IF EXISTS (
        SELECT 1 FROM sys.indexes
        WHERE object_id = OBJECT_ID(N'dbo.ORDERS_UNIFIED') AND name = N'IX_ORDERS_UNIFIED_uuid_hash'
    )
    BEGIN
        EXEC sys.sp_executesql N'DROP INDEX IX_ORDERS_UNIFIED_uuid_hash ON dbo.ORDERS_UNIFIED;';
        PRINT N'dropped IX_ORDERS_UNIFIED_uuid_hash';
    END;

    IF EXISTS (
        SELECT 1 FROM sys.computed_columns
        WHERE object_id = OBJECT_ID(N'dbo.ORDERS_UNIFIED') AND name = N'record_hash'
    )
    BEGIN
        EXEC sys.sp_executesql N'ALTER TABLE dbo.ORDERS_UNIFIED DROP COLUMN record_hash;';
        EXEC sys.sp_executesql N'ALTER TABLE dbo.ORDERS_UNIFIED ADD record_hash VARCHAR(64) NULL;';
        PRINT N'dbo.ORDERS_UNIFIED.record_hash is VARCHAR(64) NULL again, as 001 made it';
    END;

    IF COL_LENGTH(N'dbo.MON_SyncState', N'db_hash') IS NOT NULL
    BEGIN
        EXEC sys.sp_executesql N'ALTER TABLE dbo.MON_SyncState DROP COLUMN db_hash;';
        PRINT N'dropped dbo.MON_SyncState.db_hash';
    END;

    -- The run is no longer in the database: remove its record (000 made the table).
    IF OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NOT NULL
    BEGIN
        DELETE FROM dbo.MON_SchemaVersion WHERE script_number = 7;
        IF @@ROWCOUNT > 0
            PRINT N'removed 007_record_hash.sql from dbo.MON_SchemaVersion';
    END;

    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
