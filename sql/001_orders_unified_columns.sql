/*
    001_orders_unified_columns.sql                         SQL Server 2016 or later

    Gives the existing production table dbo.ORDERS_UNIFIED what the sync needs:
      - record_uuid  UNIQUEIDENTIFIER NOT NULL, default NEWID(): the stable identity of
                     an order line; every join in the sync goes through it;
      - record_hash  VARCHAR(64) NULL: room for a row hash (the app does not write it);
      - IX_ORDERS_UNIFIED_record_uuid  on (record_uuid);
      - IX_ORDERS_UNIFIED_customer     on ([CUSTOMER NAME]).
    It does not create ORDERS_UNIFIED: the table must already exist. Run 000 first:
    this script records itself in MON_SchemaVersion, and stops before changing anything
    when that table is missing.

    Non-breaking: it only adds two columns (at the end of the table) and two
    non-unique indexes; no existing column, row value, constraint or index is changed,
    so every query that names its columns keeps working.
      - Adding a NOT NULL column with a default fills every existing row with the
        default, each row with its own NEWID() (WITH VALUES states that intent; for a
        NOT NULL column SQL Server fills existing rows in any case). Because NEWID() is
        not a run-time constant, this writes every row: it holds a schema-modification
        lock on the table until the script commits (seconds for about 10,000 rows).
        Run it outside the load window.
      - Loads that INSERT with a column list, or by name through SSIS/BCP format files
        that name columns, are unaffected: new rows get a NEWID() from the default.
        A load that does INSERT ... VALUES or INSERT ... SELECT * without a column list
        would now fail on the column count: check the loader before running this.
      - The uuid must live as long as the order line: a load that TRUNCATEs and
        reloads, or drops and recreates, the table gives every row a new record_uuid,
        and the sync then sees every order as deleted and new again.

    Idempotent: every step checks first, so a second run changes nothing. One batch,
    one transaction (no GO), so it runs the same in sqlcmd (-b), SSMS or Azure Data
    Studio. Undo: sql/down/001_orders_unified_columns.sql.
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;
SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;

IF OBJECT_ID(N'dbo.ORDERS_UNIFIED', N'U') IS NULL
    THROW 50001, N'dbo.ORDERS_UNIFIED does not exist in this database: USE the order database first. Nothing was changed.', 1;

IF OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NULL
    THROW 50004, N'dbo.MON_SchemaVersion does not exist: run sql/000_schema_version.sql first. Nothing was changed.', 1;

BEGIN TRY
    BEGIN TRANSACTION;

    -- 1. record_uuid: NOT NULL with a named default; existing rows get a NEWID() each.
    IF COL_LENGTH(N'dbo.ORDERS_UNIFIED', N'record_uuid') IS NULL
    BEGIN
        ALTER TABLE dbo.ORDERS_UNIFIED
            ADD record_uuid UNIQUEIDENTIFIER NOT NULL
                CONSTRAINT DF_ORDERS_UNIFIED_record_uuid DEFAULT (NEWID()) WITH VALUES;
        PRINT N'added dbo.ORDERS_UNIFIED.record_uuid (existing rows filled with NEWID())';
    END
    ELSE
    BEGIN
        -- Present already (a second run, or added by hand): check it is what the app expects.
        IF NOT EXISTS (
            SELECT 1
            FROM sys.columns AS c
            WHERE c.object_id = OBJECT_ID(N'dbo.ORDERS_UNIFIED')
              AND c.name = N'record_uuid'
              AND c.system_type_id = TYPE_ID(N'uniqueidentifier')
              AND c.is_nullable = 0
        )
            THROW 50002, N'dbo.ORDERS_UNIFIED.record_uuid exists but is not UNIQUEIDENTIFIER NOT NULL: fix it by hand (see sql/README.md).', 1;
        IF NOT EXISTS (
            SELECT 1
            FROM sys.default_constraints AS d
            JOIN sys.columns AS c
              ON c.object_id = d.parent_object_id AND c.column_id = d.parent_column_id
            WHERE d.parent_object_id = OBJECT_ID(N'dbo.ORDERS_UNIFIED')
              AND c.name = N'record_uuid'
        )
        BEGIN
            -- New rows must get a uuid without the loader knowing about the column.
            ALTER TABLE dbo.ORDERS_UNIFIED
                ADD CONSTRAINT DF_ORDERS_UNIFIED_record_uuid DEFAULT (NEWID()) FOR record_uuid;
            PRINT N'added default DF_ORDERS_UNIFIED_record_uuid to the existing record_uuid';
        END
        ELSE
            PRINT N'dbo.ORDERS_UNIFIED.record_uuid already present: unchanged';
    END;

    -- 2. record_hash: nullable, so adding it is a metadata-only change.
    IF COL_LENGTH(N'dbo.ORDERS_UNIFIED', N'record_hash') IS NULL
    BEGIN
        ALTER TABLE dbo.ORDERS_UNIFIED ADD record_hash VARCHAR(64) NULL;
        PRINT N'added dbo.ORDERS_UNIFIED.record_hash';
    END
    ELSE
        PRINT N'dbo.ORDERS_UNIFIED.record_hash already present: unchanged';

    -- 3. Index on record_uuid (not unique: a bad load may bring duplicates, and the sync
    --    reports them instead of failing the whole customer). Dynamic SQL, because the
    --    column may only have been added by this batch.
    IF NOT EXISTS (
        SELECT 1 FROM sys.indexes
        WHERE object_id = OBJECT_ID(N'dbo.ORDERS_UNIFIED')
          AND name = N'IX_ORDERS_UNIFIED_record_uuid'
    )
    BEGIN
        EXEC sys.sp_executesql
            N'CREATE NONCLUSTERED INDEX IX_ORDERS_UNIFIED_record_uuid
                  ON dbo.ORDERS_UNIFIED (record_uuid);';
        PRINT N'created IX_ORDERS_UNIFIED_record_uuid';
    END
    ELSE
        PRINT N'IX_ORDERS_UNIFIED_record_uuid already present: unchanged';

    -- 4. Index on [CUSTOMER NAME]: every detection reads one customer's rows. An
    --    NVARCHAR(MAX) column cannot be an index key: then say so and go on.
    IF NOT EXISTS (
        SELECT 1 FROM sys.indexes
        WHERE object_id = OBJECT_ID(N'dbo.ORDERS_UNIFIED')
          AND name = N'IX_ORDERS_UNIFIED_customer'
    )
    BEGIN
        IF COL_LENGTH(N'dbo.ORDERS_UNIFIED', N'CUSTOMER NAME') IS NULL
            THROW 50003, N'dbo.ORDERS_UNIFIED has no [CUSTOMER NAME] column: the sync needs it. Nothing was changed.', 1;
        IF COL_LENGTH(N'dbo.ORDERS_UNIFIED', N'CUSTOMER NAME') = -1
            PRINT N'WARNING: [CUSTOMER NAME] is NVARCHAR(MAX) and cannot be indexed: '
                + N'IX_ORDERS_UNIFIED_customer skipped (the sync works, reads are slower)';
        ELSE
        BEGIN
            EXEC sys.sp_executesql
                N'CREATE NONCLUSTERED INDEX IX_ORDERS_UNIFIED_customer
                      ON dbo.ORDERS_UNIFIED ([CUSTOMER NAME]);';
            PRINT N'created IX_ORDERS_UNIFIED_customer';
        END;
    END
    ELSE
        PRINT N'IX_ORDERS_UNIFIED_customer already present: unchanged';

    -- Record the run (000 made the table; a re-run keeps the first row).
    IF NOT EXISTS (SELECT 1 FROM dbo.MON_SchemaVersion WHERE script_number = 1)
    BEGIN
        INSERT INTO dbo.MON_SchemaVersion (script_number, script_name, applied_at, applied_by)
        VALUES (1, N'001_orders_unified_columns.sql', SYSDATETIME(), ORIGINAL_LOGIN());
        PRINT N'recorded 001_orders_unified_columns.sql in dbo.MON_SchemaVersion';
    END
    ELSE
        PRINT N'001_orders_unified_columns.sql already recorded in dbo.MON_SchemaVersion';

    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
