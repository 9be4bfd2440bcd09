/*
    005_batch_claim.sql                                    SQL Server 2016 or later

    Adds six columns to dbo.MON_BatchProcessing (made by 002), as
    orders_sync_gui/store/schema.py defines them (a test compares the two): the claim of
    the push or undo run that is working on the batch right now.
      - claim_run       VARCHAR(32) NULL:    the run's random id;
      - claim_pid       INT NULL:            its process id ...
      - claim_host      NVARCHAR(255) NULL:  ... on this computer;
      - claim_operator  NVARCHAR(100) NULL:  who started it (not always who staged the
                                             batch: that is the operator column);
      - claim_activity  VARCHAR(10) NULL:    'push' or 'undo';
      - claim_at        DATETIME2 NULL:      when it claimed the batch (its last sign of
                                             life stays updated_at, the heartbeat).
    While a run holds the batch (status PUSHING) they say which run it is, so that a second
    run can tell whether the first is still alive: a process of the same computer that no
    longer exists is taken over at once, any other run only once it has been silent past
    the lease. Before this script the app wrote the claim into the message column as text
    and read pid and host back out of it. The message still says who holds the batch, for
    people (orders-sync batches, the window); the app no longer reads it.
    When the run ends the app sets the columns back to NULL.

    Non-breaking: six nullable columns at the end of the table, a metadata-only change;
    existing rows read NULL (no run holds them), no row is rewritten, no other object
    changes. The operator role needs no new right (it has SELECT and UPDATE on the table
    already). Run after 000 to 004; it records itself in MON_SchemaVersion, and stops
    before changing anything when that table or MON_BatchProcessing is missing. An
    orders-sync older than this script refuses a database where it ran ("upgraded by a
    newer orders-sync"): update every operator's app. A batch that an older app left
    PUSHING (a run killed before the upgrade) has no claim in these columns: the new app
    takes it over once it has been silent past the lease.

    Idempotent: each column is added only when missing, so a second run changes nothing.
    One batch, one transaction (no GO). Undo: sql/down/005_batch_claim.sql.
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;
SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;

IF OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NULL
    THROW 50051, N'dbo.MON_SchemaVersion does not exist: run sql/000_schema_version.sql first. Nothing was changed.', 1;

IF OBJECT_ID(N'dbo.MON_BatchProcessing', N'U') IS NULL
    THROW 50052, N'dbo.MON_BatchProcessing does not exist: run sql/002_sync_tables.sql first. Nothing was changed.', 1;

BEGIN TRY
    BEGIN TRANSACTION;

    IF COL_LENGTH(N'dbo.MON_BatchProcessing', N'claim_run') IS NULL
    BEGIN
        ALTER TABLE dbo.MON_BatchProcessing ADD claim_run VARCHAR(32) NULL;
        PRINT N'added dbo.MON_BatchProcessing.claim_run';
    END
    ELSE
        PRINT N'dbo.MON_BatchProcessing.claim_run already present: unchanged';

    IF COL_LENGTH(N'dbo.MON_BatchProcessing', N'claim_pid') IS NULL
    BEGIN
        ALTER TABLE dbo.MON_BatchProcessing ADD claim_pid INT NULL;
        PRINT N'added dbo.MON_BatchProcessing.claim_pid';
    END
    ELSE
        PRINT N'dbo.MON_BatchProcessing.claim_pid already present: unchanged';

    IF COL_LENGTH(N'dbo.MON_BatchProcessing', N'claim_host') IS NULL
    BEGIN
        ALTER TABLE dbo.MON_BatchProcessing ADD claim_host NVARCHAR(255) NULL;
        PRINT N'added dbo.MON_BatchProcessing.claim_host';
    END
    ELSE
        PRINT N'dbo.MON_BatchProcessing.claim_host already present: unchanged';

    IF COL_LENGTH(N'dbo.MON_BatchProcessing', N'claim_operator') IS NULL
    BEGIN
        ALTER TABLE dbo.MON_BatchProcessing ADD claim_operator NVARCHAR(100) NULL;
        PRINT N'added dbo.MON_BatchProcessing.claim_operator';
    END
    ELSE
        PRINT N'dbo.MON_BatchProcessing.claim_operator already present: unchanged';

    IF COL_LENGTH(N'dbo.MON_BatchProcessing', N'claim_activity') IS NULL
    BEGIN
        ALTER TABLE dbo.MON_BatchProcessing ADD claim_activity VARCHAR(10) NULL;
        PRINT N'added dbo.MON_BatchProcessing.claim_activity';
    END
    ELSE
        PRINT N'dbo.MON_BatchProcessing.claim_activity already present: unchanged';

    IF COL_LENGTH(N'dbo.MON_BatchProcessing', N'claim_at') IS NULL
    BEGIN
        ALTER TABLE dbo.MON_BatchProcessing ADD claim_at DATETIME2 NULL;
        PRINT N'added dbo.MON_BatchProcessing.claim_at';
    END
    ELSE
        PRINT N'dbo.MON_BatchProcessing.claim_at already present: unchanged';

    -- Record the run (000 made the table; a re-run keeps the first row).
    IF NOT EXISTS (SELECT 1 FROM dbo.MON_SchemaVersion WHERE script_number = 5)
    BEGIN
        INSERT INTO dbo.MON_SchemaVersion (script_number, script_name, applied_at, applied_by)
        VALUES (5, N'005_batch_claim.sql', SYSDATETIME(), ORIGINAL_LOGIN());
        PRINT N'recorded 005_batch_claim.sql in dbo.MON_SchemaVersion';
    END
    ELSE
        PRINT N'005_batch_claim.sql already recorded in dbo.MON_SchemaVersion';

    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
