/*
    down/004_sync_state_tombstone.sql                      SQL Server 2016 or later

    Undoes 004: takes dbo.MON_SyncState back to what 002 made, the form an orders-sync
    older than 004 reads. That app keeps no row for a pushed delete, and would read a
    tombstone as a live record (and push its delete again), so the tombstones
    (deleted_at IS NOT NULL) are deleted first, then the columns deleted_at and
    deleted_action are dropped, then 004's row is removed from dbo.MON_SchemaVersion.
    Every live record of the sync state is kept as it is. What is lost: an order whose
    delete was pushed and that comes back later gets a second item (as before 004).

    Idempotent: each step checks first; a second run changes nothing (the statements that
    name the columns run as dynamic SQL, so the script still compiles once they are
    gone). One batch, one transaction (no GO). Dropping a column is a metadata change.
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;

DECLARE @n INT;

BEGIN TRY
    BEGIN TRANSACTION;

    IF COL_LENGTH(N'dbo.MON_SyncState', N'deleted_at') IS NOT NULL
    BEGIN
        EXEC sys.sp_executesql
            N'DELETE FROM dbo.MON_SyncState WHERE deleted_at IS NOT NULL; SET @n = @@ROWCOUNT;',
            N'@n INT OUTPUT', @n = @n OUTPUT;
        PRINT N'deleted ' + CAST(@n AS NVARCHAR(20)) + N' tombstone(s) from dbo.MON_SyncState';
        EXEC sys.sp_executesql N'ALTER TABLE dbo.MON_SyncState DROP COLUMN deleted_at;';
        PRINT N'dropped dbo.MON_SyncState.deleted_at';
    END;

    IF COL_LENGTH(N'dbo.MON_SyncState', N'deleted_action') IS NOT NULL
    BEGIN
        EXEC sys.sp_executesql N'ALTER TABLE dbo.MON_SyncState DROP COLUMN deleted_action;';
        PRINT N'dropped dbo.MON_SyncState.deleted_action';
    END;

    -- The run is no longer in the database: remove its record (000 made the table).
    IF OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NOT NULL
    BEGIN
        DELETE FROM dbo.MON_SchemaVersion WHERE script_number = 4;
        IF @@ROWCOUNT > 0
            PRINT N'removed 004_sync_state_tombstone.sql from dbo.MON_SchemaVersion';
    END;

    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
