/*
    002_sync_tables.sql                                    SQL Server 2016 or later

    Creates the five tables the orders-sync app owns, exactly as
    orders_sync_gui/store/schema.py defines them (a test compares the two):
      dbo.MON_BatchProcessing                  one row per staged batch (its history)
      dbo.STG_MON_CustMasterSchedule           the staged order lines of a batch
      dbo.STG_MON_CustMasterSchedule_Subitems  the staged size lines of those
      dbo.MON_SyncState                        per record_uuid, what was last pushed
      dbo.MON_CustomerLock                     one open batch per customer (the PK is the lock)
    Types: text the operators type or read is NVARCHAR(n); JSON documents and messages are
    NVARCHAR(MAX) (never the deprecated NTEXT); timestamps are DATETIME2 (DATETIME would
    round milliseconds); uuids are UNIQUEIDENTIFIER; ids are INT IDENTITY.
    Count columns have no server default on purpose: the app always writes them.
    Primary and foreign keys are named here so that scripts and diffs can name them;
    the app does not depend on those names.

    Non-breaking: it only creates new tables and their indexes; it touches no existing
    object (ORDERS_UNIFIED included). Run 000 and 001 first (the app refuses to start
    without record_uuid), then this, then 003. It records itself in MON_SchemaVersion
    (made by 000; without it, this script stops before changing anything).

    Idempotent: each table and index is created only when missing, so a second run
    changes nothing. One batch, one transaction (no GO). Undo: sql/down/002_sync_tables.sql.
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;
SET ANSI_NULLS ON;
SET ANSI_PADDING ON;
SET QUOTED_IDENTIFIER ON;

IF OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NULL
    THROW 50024, N'dbo.MON_SchemaVersion does not exist: run sql/000_schema_version.sql first. Nothing was changed.', 1;

BEGIN TRY
    BEGIN TRANSACTION;

    IF OBJECT_ID(N'dbo.MON_BatchProcessing', N'U') IS NULL
    BEGIN
        CREATE TABLE dbo.MON_BatchProcessing (
            batch_id INT IDENTITY(1, 1) NOT NULL,
            customer NVARCHAR(100) NOT NULL,
            status VARCHAR(20) NOT NULL,
            operator NVARCHAR(100) NOT NULL,
            created_at DATETIME2 NOT NULL,
            updated_at DATETIME2 NOT NULL,
            change_types VARCHAR(40) NOT NULL,
            filter_po NVARCHAR(50) NULL,
            filter_limit INT NULL,
            item_count INT NOT NULL,
            subitem_count INT NOT NULL,
            new_count INT NOT NULL,
            changed_count INT NOT NULL,
            deleted_count INT NOT NULL,
            excluded_count INT NOT NULL,
            invalid_count INT NOT NULL,
            succeeded_count INT NOT NULL,
            failed_count INT NOT NULL,
            message NVARCHAR(MAX) NULL,
            CONSTRAINT PK_MON_BatchProcessing PRIMARY KEY CLUSTERED (batch_id)
        );
        PRINT N'created dbo.MON_BatchProcessing';
    END;

    IF NOT EXISTS (
        SELECT 1 FROM sys.indexes
        WHERE object_id = OBJECT_ID(N'dbo.MON_BatchProcessing')
          AND name = N'IX_MON_BatchProcessing_customer'
    )
        CREATE NONCLUSTERED INDEX IX_MON_BatchProcessing_customer
            ON dbo.MON_BatchProcessing (customer, created_at);

    IF OBJECT_ID(N'dbo.STG_MON_CustMasterSchedule', N'U') IS NULL
    BEGIN
        CREATE TABLE dbo.STG_MON_CustMasterSchedule (
            stg_id INT IDENTITY(1, 1) NOT NULL,
            stg_batch_id INT NOT NULL,
            source_uuid UNIQUEIDENTIFIER NOT NULL,
            source_hash VARCHAR(64) NULL,
            change_type VARCHAR(10) NOT NULL,
            customer NVARCHAR(100) NOT NULL,
            order_number NVARCHAR(50) NULL,
            po_number NVARCHAR(50) NULL,
            style NVARCHAR(50) NULL,
            colour NVARCHAR(100) NULL,
            order_qty INT NULL,
            stg_values NVARCHAR(MAX) NULL,
            stg_previous_values NVARCHAR(MAX) NULL,
            stg_diff NVARCHAR(MAX) NULL,
            stg_status VARCHAR(20) NOT NULL,
            stg_monday_item_id VARCHAR(20) NULL,
            stg_error_message NVARCHAR(MAX) NULL,
            stg_retry_count INT NOT NULL,
            stg_created_at DATETIME2 NOT NULL,
            stg_updated_at DATETIME2 NOT NULL,
            CONSTRAINT PK_STG_MON_CustMasterSchedule PRIMARY KEY CLUSTERED (stg_id),
            CONSTRAINT UQ_STG_MON_CMS_batch_uuid UNIQUE (stg_batch_id, source_uuid),
            CONSTRAINT FK_STG_MON_CMS_batch FOREIGN KEY (stg_batch_id)
                REFERENCES dbo.MON_BatchProcessing (batch_id)
        );
        PRINT N'created dbo.STG_MON_CustMasterSchedule';
    END;

    IF NOT EXISTS (
        SELECT 1 FROM sys.indexes
        WHERE object_id = OBJECT_ID(N'dbo.STG_MON_CustMasterSchedule')
          AND name = N'IX_STG_MON_CMS_uuid'
    )
        CREATE NONCLUSTERED INDEX IX_STG_MON_CMS_uuid
            ON dbo.STG_MON_CustMasterSchedule (source_uuid);

    IF OBJECT_ID(N'dbo.STG_MON_CustMasterSchedule_Subitems', N'U') IS NULL
    BEGIN
        CREATE TABLE dbo.STG_MON_CustMasterSchedule_Subitems (
            stg_subitem_id INT IDENTITY(1, 1) NOT NULL,
            stg_batch_id INT NOT NULL,
            stg_parent_id INT NOT NULL,
            source_uuid UNIQUEIDENTIFIER NOT NULL,
            size_label NVARCHAR(50) NOT NULL,
            order_qty INT NULL,
            previous_qty INT NULL,
            change_type VARCHAR(10) NOT NULL,
            stg_status VARCHAR(20) NOT NULL,
            stg_monday_subitem_id VARCHAR(20) NULL,
            stg_error_message NVARCHAR(MAX) NULL,
            stg_retry_count INT NOT NULL,
            stg_created_at DATETIME2 NOT NULL,
            stg_updated_at DATETIME2 NOT NULL,
            CONSTRAINT PK_STG_MON_CustMasterSchedule_Subitems PRIMARY KEY CLUSTERED (stg_subitem_id),
            CONSTRAINT FK_STG_MON_CMS_Sub_batch FOREIGN KEY (stg_batch_id)
                REFERENCES dbo.MON_BatchProcessing (batch_id),
            CONSTRAINT FK_STG_MON_CMS_Sub_parent FOREIGN KEY (stg_parent_id)
                REFERENCES dbo.STG_MON_CustMasterSchedule (stg_id)
        );
        PRINT N'created dbo.STG_MON_CustMasterSchedule_Subitems';
    END;

    IF NOT EXISTS (
        SELECT 1 FROM sys.indexes
        WHERE object_id = OBJECT_ID(N'dbo.STG_MON_CustMasterSchedule_Subitems')
          AND name = N'IX_STG_MON_CMS_Sub_batch'
    )
        CREATE NONCLUSTERED INDEX IX_STG_MON_CMS_Sub_batch
            ON dbo.STG_MON_CustMasterSchedule_Subitems (stg_batch_id, stg_parent_id);

    IF OBJECT_ID(N'dbo.MON_SyncState', N'U') IS NULL
    BEGIN
        CREATE TABLE dbo.MON_SyncState (
            record_uuid UNIQUEIDENTIFIER NOT NULL,
            customer NVARCHAR(100) NOT NULL,
            source_hash VARCHAR(64) NOT NULL,
            pushed_values NVARCHAR(MAX) NOT NULL,
            monday_item_id VARCHAR(20) NULL,
            monday_subitem_ids NVARCHAR(MAX) NULL,
            last_batch_id INT NULL,
            synced_at DATETIME2 NOT NULL,
            CONSTRAINT PK_MON_SyncState PRIMARY KEY CLUSTERED (record_uuid)
        );
        PRINT N'created dbo.MON_SyncState';
    END;

    IF NOT EXISTS (
        SELECT 1 FROM sys.indexes
        WHERE object_id = OBJECT_ID(N'dbo.MON_SyncState')
          AND name = N'IX_MON_SyncState_customer'
    )
        CREATE NONCLUSTERED INDEX IX_MON_SyncState_customer
            ON dbo.MON_SyncState (customer);

    IF OBJECT_ID(N'dbo.MON_CustomerLock', N'U') IS NULL
    BEGIN
        CREATE TABLE dbo.MON_CustomerLock (
            customer NVARCHAR(100) NOT NULL,
            batch_id INT NOT NULL,
            operator NVARCHAR(100) NOT NULL,
            locked_at DATETIME2 NOT NULL,
            CONSTRAINT PK_MON_CustomerLock PRIMARY KEY CLUSTERED (customer)
        );
        PRINT N'created dbo.MON_CustomerLock';
    END;

    -- Record the run (000 made the table; a re-run keeps the first row).
    IF NOT EXISTS (SELECT 1 FROM dbo.MON_SchemaVersion WHERE script_number = 2)
    BEGIN
        INSERT INTO dbo.MON_SchemaVersion (script_number, script_name, applied_at, applied_by)
        VALUES (2, N'002_sync_tables.sql', SYSDATETIME(), ORIGINAL_LOGIN());
        PRINT N'recorded 002_sync_tables.sql in dbo.MON_SchemaVersion';
    END
    ELSE
        PRINT N'002_sync_tables.sql already recorded in dbo.MON_SchemaVersion';

    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
