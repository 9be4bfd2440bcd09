/*
    004_sync_state_tombstone.sql                           SQL Server 2016 or later

    Adds two columns to dbo.MON_SyncState (made by 002), as
    orders_sync_gui/store/schema.py defines them (a test compares the two):
      - deleted_at      DATETIME2 NULL:   when the delete of the record was pushed;
      - deleted_action  VARCHAR(10) NULL: what became of its monday.com item then:
                        'status' (labelled, still on the board), 'archive' (archived)
                        or 'gone' (someone had taken it off the board by hand).
    With them, a pushed delete leaves a tombstone instead of no row: the app no longer
    counts the record as synced, and if the same record_uuid comes back to ORDERS_UNIFIED
    its push takes up the labelled item again instead of creating a second one (an
    archived or deleted item cannot be brought back through monday.com's API: the order
    then gets a new item, and the archived one stays in the board's archive).

    Non-breaking: two nullable columns at the end of the table, a metadata-only change;
    existing rows read NULL (live records), no row is rewritten, no other object changes.
    The operator role needs no new right (the app writes the sync state as delete +
    insert, as before). Run after 000, 001, 002 and 003; it records itself in
    MON_SchemaVersion, and stops before changing anything when that table or
    MON_SyncState is missing. An orders-sync older than this script refuses a database
    where it ran ("upgraded by a newer orders-sync"): update every operator's app.

    Idempotent: each column is added only when missing, so a second run changes nothing.
    One batch, one transaction (no GO). Undo: sql/down/004_sync_state_tombstone.sql.
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;
SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;

IF OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NULL
    THROW 50041, N'dbo.MON_SchemaVersion does not exist: run sql/000_schema_version.sql first. Nothing was changed.', 1;

IF OBJECT_ID(N'dbo.MON_SyncState', N'U') IS NULL
    THROW 50042, N'dbo.MON_SyncState does not exist: run sql/002_sync_tables.sql first. Nothing was changed.', 1;

BEGIN TRY
    BEGIN TRANSACTION;

    IF COL_LENGTH(N'dbo.MON_SyncState', N'deleted_at') IS NULL
    BEGIN
        ALTER TABLE dbo.MON_SyncState ADD deleted_at DATETIME2 NULL;
        PRINT N'added dbo.MON_SyncState.deleted_at';
    END
    ELSE
        PRINT N'dbo.MON_SyncState.deleted_at already present: unchanged';

    IF COL_LENGTH(N'dbo.MON_SyncState', N'deleted_action') IS NULL
    BEGIN
        ALTER TABLE dbo.MON_SyncState ADD deleted_action VARCHAR(10) NULL;
        PRINT N'added dbo.MON_SyncState.deleted_action';
    END
    ELSE
        PRINT N'dbo.MON_SyncState.deleted_action already present: unchanged';

    -- Record the run (000 made the table; a re-run keeps the first row).
    IF NOT EXISTS (SELECT 1 FROM dbo.MON_SchemaVersion WHERE script_number = 4)
    BEGIN
        INSERT INTO dbo.MON_SchemaVersion (script_number, script_name, applied_at, applied_by)
        VALUES (4, N'004_sync_state_tombstone.sql', SYSDATETIME(), ORIGINAL_LOGIN());
        PRINT N'recorded 004_sync_state_tombstone.sql in dbo.MON_SchemaVersion';
    END
    ELSE
        PRINT N'004_sync_state_tombstone.sql already recorded in dbo.MON_SchemaVersion';

    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
