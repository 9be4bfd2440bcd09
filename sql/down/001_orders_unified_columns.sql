/*
    down/001_orders_unified_columns.sql                    SQL Server 2016 or later

    Undoes 001: drops IX_ORDERS_UNIFIED_customer and IX_ORDERS_UNIFIED_record_uuid,
    the default constraint on record_uuid (it must go before the column can), and the
    columns record_uuid and record_hash of dbo.ORDERS_UNIFIED. Every other column, row
    and index of ORDERS_UNIFIED is left as it was.

    DESTRUCTIVE for the sync: the record_uuids are the identity of every synced order.
    Running 001 again afterwards makes NEW uuids, and the sync would then see every
    order as deleted and new. So this script refuses to run while dbo.MON_SyncState
    still holds rows, unless @force is set to 1 below. Run down/003 and down/002 first.
    Its last step removes 001's row from dbo.MON_SchemaVersion (then run down/000).

    Idempotent: each step checks first; a second run changes nothing. One batch, one
    transaction (no GO). Dropping a column is a metadata change (the space is reclaimed
    by the next rebuild of the table).
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;

DECLARE @force BIT = 0;  -- 1: drop the uuids even though sync state still refers to them

IF OBJECT_ID(N'dbo.ORDERS_UNIFIED', N'U') IS NULL
    THROW 50011, N'dbo.ORDERS_UNIFIED does not exist in this database: USE the order database first. Nothing was changed.', 1;

IF @force = 0 AND OBJECT_ID(N'dbo.MON_SyncState', N'U') IS NOT NULL
BEGIN
    DECLARE @synced INT;
    EXEC sys.sp_executesql
        N'SELECT @n = COUNT(*) FROM dbo.MON_SyncState;', N'@n INT OUTPUT', @n = @synced OUTPUT;
    IF @synced > 0
        THROW 50012, N'dbo.MON_SyncState still refers to record_uuids: run down/002 first, or set @force = 1. Nothing was changed.', 1;
END;

DECLARE @sql NVARCHAR(MAX);

BEGIN TRY
    BEGIN TRANSACTION;

    IF EXISTS (
        SELECT 1 FROM sys.indexes
        WHERE object_id = OBJECT_ID(N'dbo.ORDERS_UNIFIED')
          AND name = N'IX_ORDERS_UNIFIED_customer'
    )
    BEGIN
        DROP INDEX IX_ORDERS_UNIFIED_customer ON dbo.ORDERS_UNIFIED;
        PRINT N'dropped IX_ORDERS_UNIFIED_customer';
    END;

    IF EXISTS (
        SELECT 1 FROM sys.indexes
        WHERE object_id = OBJECT_ID(N'dbo.ORDERS_UNIFIED')
          AND name = N'IX_ORDERS_UNIFIED_record_uuid'
    )
    BEGIN
        DROP INDEX IX_ORDERS_UNIFIED_record_uuid ON dbo.ORDERS_UNIFIED;
        PRINT N'dropped IX_ORDERS_UNIFIED_record_uuid';
    END;

    IF COL_LENGTH(N'dbo.ORDERS_UNIFIED', N'record_uuid') IS NOT NULL
    BEGIN
        -- The default first, whatever its name (DF_ORDERS_UNIFIED_record_uuid when 001
        -- added it): a column with a default constraint cannot be dropped.
        SET @sql = N'';
        SELECT @sql += N'ALTER TABLE dbo.ORDERS_UNIFIED DROP CONSTRAINT '
            + QUOTENAME(d.name) + N';' + NCHAR(10)
        FROM sys.default_constraints AS d
        JOIN sys.columns AS c
          ON c.object_id = d.parent_object_id AND c.column_id = d.parent_column_id
        WHERE d.parent_object_id = OBJECT_ID(N'dbo.ORDERS_UNIFIED')
          AND c.name = N'record_uuid';
        IF @sql <> N''
        BEGIN
            EXEC sys.sp_executesql @sql;
            PRINT N'dropped the default constraint of record_uuid';
        END;
        -- Any other index that a DBA built on the column would block the drop: say which.
        IF EXISTS (
            SELECT 1
            FROM sys.index_columns AS ic
            JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
            WHERE ic.object_id = OBJECT_ID(N'dbo.ORDERS_UNIFIED') AND c.name = N'record_uuid'
        )
            THROW 50013, N'another index uses dbo.ORDERS_UNIFIED.record_uuid: drop it first. Nothing was changed.', 1;
        ALTER TABLE dbo.ORDERS_UNIFIED DROP COLUMN record_uuid;
        PRINT N'dropped dbo.ORDERS_UNIFIED.record_uuid';
    END;

    IF COL_LENGTH(N'dbo.ORDERS_UNIFIED', N'record_hash') IS NOT NULL
    BEGIN
        ALTER TABLE dbo.ORDERS_UNIFIED DROP COLUMN record_hash;
        PRINT N'dropped dbo.ORDERS_UNIFIED.record_hash';
    END;

    -- The run is no longer in the database: remove its record (000 made the table).
    IF OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NOT NULL
    BEGIN
        DELETE FROM dbo.MON_SchemaVersion WHERE script_number = 1;
        IF @@ROWCOUNT > 0
            PRINT N'removed 001_orders_unified_columns.sql from dbo.MON_SchemaVersion';
    END;

    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
