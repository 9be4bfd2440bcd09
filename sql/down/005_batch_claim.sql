/*
    down/005_batch_claim.sql                               SQL Server 2016 or later

    Undoes 005: takes dbo.MON_BatchProcessing back to what 002 made, the form an
    orders-sync older than 005 reads. The columns claim_run, claim_pid, claim_host,
    claim_operator, claim_activity and claim_at are dropped, then 005's row is removed
    from dbo.MON_SchemaVersion. Nothing else is lost: a batch a run still holds keeps its
    message ("push in progress, run ..., pid N on HOST, operator"), from which the older
    app reads pid and host, as it always did. Run it while no push or undo is running (a
    run of the newer app loses its claim's columns under it and stops on its next write);
    it PRINTs how many batches were held.

    Idempotent: each step checks first; a second run changes nothing (the statements that
    name the columns run as dynamic SQL, so the script still compiles once they are
    gone). One batch, one transaction (no GO). Dropping a column is a metadata change.
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;

DECLARE @n INT;

BEGIN TRY
    BEGIN TRANSACTION;

    IF COL_LENGTH(N'dbo.MON_BatchProcessing', N'claim_run') IS NOT NULL
    BEGIN
        EXEC sys.sp_executesql
            N'SELECT @n = COUNT(*) FROM dbo.MON_BatchProcessing WHERE claim_run IS NOT NULL;',
            N'@n INT OUTPUT', @n = @n OUTPUT;
        PRINT CAST(@n AS NVARCHAR(20)) + N' batch(es) held by a run; their message still names it';
        EXEC sys.sp_executesql N'ALTER TABLE dbo.MON_BatchProcessing DROP COLUMN claim_run;';
        PRINT N'dropped dbo.MON_BatchProcessing.claim_run';
    END;

    IF COL_LENGTH(N'dbo.MON_BatchProcessing', N'claim_pid') IS NOT NULL
    BEGIN
        EXEC sys.sp_executesql N'ALTER TABLE dbo.MON_BatchProcessing DROP COLUMN claim_pid;';
        PRINT N'dropped dbo.MON_BatchProcessing.claim_pid';
    END;

    IF COL_LENGTH(N'dbo.MON_BatchProcessing', N'claim_host') IS NOT NULL
    BEGIN
        EXEC sys.sp_executesql N'ALTER TABLE dbo.MON_BatchProcessing DROP COLUMN claim_host;';
        PRINT N'dropped dbo.MON_BatchProcessing.claim_host';
    END;

    IF COL_LENGTH(N'dbo.MON_BatchProcessing', N'claim_operator') IS NOT NULL
    BEGIN
        EXEC sys.sp_executesql N'ALTER TABLE dbo.MON_BatchProcessing DROP COLUMN claim_operator;';
        PRINT N'dropped dbo.MON_BatchProcessing.claim_operator';
    END;

    IF COL_LENGTH(N'dbo.MON_BatchProcessing', N'claim_activity') IS NOT NULL
    BEGIN
        EXEC sys.sp_executesql N'ALTER TABLE dbo.MON_BatchProcessing DROP COLUMN claim_activity;';
        PRINT N'dropped dbo.MON_BatchProcessing.claim_activity';
    END;

    IF COL_LENGTH(N'dbo.MON_BatchProcessing', N'claim_at') IS NOT NULL
    BEGIN
        EXEC sys.sp_executesql N'ALTER TABLE dbo.MON_BatchProcessing DROP COLUMN claim_at;';
        PRINT N'dropped dbo.MON_BatchProcessing.claim_at';
    END;

    -- The run is no longer in the database: remove its record (000 made the table).
    IF OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NOT NULL
    BEGIN
        DELETE FROM dbo.MON_SchemaVersion WHERE script_number = 5;
        IF @@ROWCOUNT > 0
            PRINT N'removed 005_batch_claim.sql from dbo.MON_SchemaVersion';
    END;

    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
