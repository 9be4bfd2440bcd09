/*
    007_record_hash.sql                                    SQL Server 2016 or later

    Lets the server do change detection's comparison (issue 16):
      - dbo.ORDERS_UNIFIED.record_hash becomes a PERSISTED computed column:
            HASHBYTES('SHA2_256', <the canonical text of the mapped columns and sizes>)
        (BINARY(32)). 001 made it VARCHAR(64) NULL, which the app never wrote: that
        column is dropped and the computed one added in its place. The canonical text
        is fixed and documented in sql/README.md ("007: the database's row hash");
        the extended property orders_sync_basis on the column says which mapping it
        covers, and the app uses the column only when that is its current mapping's
        (otherwise it hashes every row itself, as before, and `doctor` says so);
      - IX_ORDERS_UNIFIED_uuid_hash on (record_uuid, record_hash): the join of two
        narrow columns that detection asks for;
      - dbo.MON_SyncState.db_hash VARBINARY(32) NULL: the database's hash of a row when
        it was pushed, kept beside the app's source_hash (NULL for rows pushed before).
    Detection then counts unchanged rows on the server (db_hash = record_hash) and
    reads only the others; the app's own hash still decides every row it reads.

    Non-breaking for every load and query that names its columns: no other column,
    value or index of ORDERS_UNIFIED changes, and a load cannot write a computed
    column, so one that wrote record_hash itself (nothing should: 001 left it to the
    app, which never wrote it) would now fail; check the loader for that name.

    Cost: adding a PERSISTED computed column writes every row of ORDERS_UNIFIED (about
    1 s per 100,000 rows, plus the index), under a schema-modification lock until the
    script commits: run it outside the load window. The expression names the mapped
    columns and the size columns of the standard catalogue: if the mapping or the size
    columns differ, the app reports "covers other columns" and keeps working without it;
    regenerate the expression (orders_sync_gui/store/dbhash.py, mssql_expression) for
    that table.

    Run after 000 to 005; it records itself in MON_SchemaVersion and stops before
    changing anything when that table, MON_SyncState or ORDERS_UNIFIED is missing.
    Idempotent: a second run changes nothing. One batch, one transaction (no GO).
    Undo: sql/down/007_record_hash.sql.
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;
SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
SET ANSI_PADDING ON;
SET ANSI_WARNINGS ON;
SET ARITHABORT ON;
SET CONCAT_NULL_YIELDS_NULL ON;
SET NUMERIC_ROUNDABORT OFF;

IF OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NULL
    THROW 50071, N'dbo.MON_SchemaVersion does not exist: run sql/000_schema_version.sql first. Nothing was changed.', 1;

IF OBJECT_ID(N'dbo.MON_SyncState', N'U') IS NULL
    THROW 50072, N'dbo.MON_SyncState does not exist: run sql/002_sync_tables.sql first. Nothing was changed.', 1;

IF OBJECT_ID(N'dbo.ORDERS_UNIFIED', N'U') IS NULL
    THROW 50073, N'dbo.ORDERS_UNIFIED does not exist in this database: USE the order database first. Nothing was changed.', 1;

DECLARE @basis NVARCHAR(200) = N'orders-sync record_hash v1 basis=115d6337536fa4f5';
DECLARE @have NVARCHAR(200);
DECLARE @sql NVARCHAR(MAX);

BEGIN TRY
    BEGIN TRANSACTION;

    -- 1. The sync state keeps the database's hash at push time.
    IF COL_LENGTH(N'dbo.MON_SyncState', N'db_hash') IS NULL
    BEGIN
        ALTER TABLE dbo.MON_SyncState ADD db_hash VARBINARY(32) NULL;
        PRINT N'added dbo.MON_SyncState.db_hash';
    END
    ELSE
        PRINT N'dbo.MON_SyncState.db_hash already present: unchanged';

    -- 2. record_hash as the computed column, unless it is already this one.
    SELECT @have = CAST(p.value AS NVARCHAR(200))
    FROM sys.computed_columns AS c
    JOIN sys.extended_properties AS p
      ON p.major_id = c.object_id AND p.minor_id = c.column_id AND p.name = N'orders_sync_basis'
    WHERE c.object_id = OBJECT_ID(N'dbo.ORDERS_UNIFIED') AND c.name = N'record_hash';

    IF @have = @basis
        PRINT N'dbo.ORDERS_UNIFIED.record_hash already computed for this mapping: unchanged';
    ELSE
    BEGIN
        IF EXISTS (
            SELECT 1 FROM sys.indexes
            WHERE object_id = OBJECT_ID(N'dbo.ORDERS_UNIFIED') AND name = N'IX_ORDERS_UNIFIED_uuid_hash'
        )
            EXEC sys.sp_executesql N'DROP INDEX IX_ORDERS_UNIFIED_uuid_hash ON dbo.ORDERS_UNIFIED;';
        IF COL_LENGTH(N'dbo.ORDERS_UNIFIED', N'record_hash') IS NOT NULL
        BEGIN
            EXEC sys.sp_executesql N'ALTER TABLE dbo.ORDERS_UNIFIED DROP COLUMN record_hash;';
            PRINT N'dropped the old dbo.ORDERS_UNIFIED.record_hash (the app never wrote it)';
        END;
        SET @sql = N'ALTER TABLE dbo.ORDERS_UNIFIED ADD record_hash AS CAST(HASHBYTES(''SHA2_256'',
        (CONVERT(NVARCHAR(MAX), N''F16:AAG ORDER NUMBER10:AAG SEASON8:CATEGORY15:CUSTOMER ALT PO27:CUSTOMER COLOUR DESCRIPTION13:CUSTOMER NAME15:CUSTOMER SEASON14:CUSTOMER STYLE14:DELIVERY TERMS11:DESTINATION4:DROP27:ETA CUSTOMER WAREHOUSE DATE15:EX FACTORY DATE5:NOTES22:ORDER DATE PO RECEIVED10:ORDER TYPE23:PLANNED DELIVERY METHOD7:PLANNER9:PO NUMBER17:STYLE DESCRIPTION15:UNIT OF MEASURE|''))
        + (CASE WHEN [AAG ORDER NUMBER] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [AAG ORDER NUMBER])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [AAG ORDER NUMBER]) END)
        + (CASE WHEN [AAG SEASON] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [AAG SEASON])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [AAG SEASON]) END)
        + (CASE WHEN [CATEGORY] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [CATEGORY])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [CATEGORY]) END)
        + (CASE WHEN [CUSTOMER ALT PO] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [CUSTOMER ALT PO])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [CUSTOMER ALT PO]) END)
        + (CASE WHEN [CUSTOMER COLOUR DESCRIPTION] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [CUSTOMER COLOUR DESCRIPTION])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [CUSTOMER COLOUR DESCRIPTION]) END)
        + (CASE WHEN [CUSTOMER NAME] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [CUSTOMER NAME])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [CUSTOMER NAME]) END)
        + (CASE WHEN [CUSTOMER SEASON] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [CUSTOMER SEASON])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [CUSTOMER SEASON]) END)
        + (CASE WHEN [CUSTOMER STYLE] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [CUSTOMER STYLE])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [CUSTOMER STYLE]) END)
        + (CASE WHEN [DELIVERY TERMS] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [DELIVERY TERMS])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [DELIVERY TERMS]) END)
        + (CASE WHEN [DESTINATION] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [DESTINATION])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [DESTINATION]) END)
        + (CASE WHEN [DROP] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [DROP])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [DROP]) END)
        + (CASE WHEN [ETA CUSTOMER WAREHOUSE DATE] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(33), [ETA CUSTOMER WAREHOUSE DATE], 126)) / 2) + N'':'' + CONVERT(NVARCHAR(33), [ETA CUSTOMER WAREHOUSE DATE], 126) END)
        + (CASE WHEN [EX FACTORY DATE] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(33), [EX FACTORY DATE], 126)) / 2) + N'':'' + CONVERT(NVARCHAR(33), [EX FACTORY DATE], 126) END)
        + (CASE WHEN [NOTES] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [NOTES])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [NOTES]) END)
        + (CASE WHEN [ORDER DATE PO RECEIVED] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(33), [ORDER DATE PO RECEIVED], 126)) / 2) + N'':'' + CONVERT(NVARCHAR(33), [ORDER DATE PO RECEIVED], 126) END)
        + (CASE WHEN [ORDER TYPE] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [ORDER TYPE])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [ORDER TYPE]) END)
        + (CASE WHEN [PLANNED DELIVERY METHOD] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [PLANNED DELIVERY METHOD])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [PLANNED DELIVERY METHOD]) END)
        + (CASE WHEN [PLANNER] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [PLANNER])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [PLANNER]) END)
        + (CASE WHEN [PO NUMBER] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [PO NUMBER])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [PO NUMBER]) END)
        + (CASE WHEN [STYLE DESCRIPTION] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [STYLE DESCRIPTION])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [STYLE DESCRIPTION]) END)
        + (CASE WHEN [UNIT OF MEASURE] IS NULL THEN N''~'' ELSE CONVERT(NVARCHAR(20), DATALENGTH(CONVERT(NVARCHAR(MAX), [UNIT OF MEASURE])) / 2) + N'':'' + CONVERT(NVARCHAR(MAX), [UNIT OF MEASURE]) END)
        + (N''|S'')
        + (CASE WHEN ISNULL([0], 0) = 0 THEN N'''' ELSE N''1:0='' + CONVERT(NVARCHAR(20), [0]) + N'';'' END)
        + (CASE WHEN ISNULL([0-3M], 0) = 0 THEN N'''' ELSE N''4:0-3M='' + CONVERT(NVARCHAR(20), [0-3M]) + N'';'' END)
        + (CASE WHEN ISNULL([04/XXS], 0) = 0 THEN N'''' ELSE N''6:04/XXS='' + CONVERT(NVARCHAR(20), [04/XXS]) + N'';'' END)
        + (CASE WHEN ISNULL([06/XS], 0) = 0 THEN N'''' ELSE N''5:06/XS='' + CONVERT(NVARCHAR(20), [06/XS]) + N'';'' END)
        + (CASE WHEN ISNULL([08/S], 0) = 0 THEN N'''' ELSE N''4:08/S='' + CONVERT(NVARCHAR(20), [08/S]) + N'';'' END)
        + (CASE WHEN ISNULL([0w], 0) = 0 THEN N'''' ELSE N''2:0w='' + CONVERT(NVARCHAR(20), [0w]) + N'';'' END)
        + (CASE WHEN ISNULL([1], 0) = 0 THEN N'''' ELSE N''1:1='' + CONVERT(NVARCHAR(20), [1]) + N'';'' END)
        + (CASE WHEN ISNULL([10], 0) = 0 THEN N'''' ELSE N''2:10='' + CONVERT(NVARCHAR(20), [10]) + N'';'' END)
        + (CASE WHEN ISNULL([10/11], 0) = 0 THEN N'''' ELSE N''5:10/11='' + CONVERT(NVARCHAR(20), [10/11]) + N'';'' END)
        + (CASE WHEN ISNULL([10/M], 0) = 0 THEN N'''' ELSE N''4:10/M='' + CONVERT(NVARCHAR(20), [10/M]) + N'';'' END)
        + (CASE WHEN ISNULL([10w], 0) = 0 THEN N'''' ELSE N''3:10w='' + CONVERT(NVARCHAR(20), [10w]) + N'';'' END)
        + (CASE WHEN ISNULL([11], 0) = 0 THEN N'''' ELSE N''2:11='' + CONVERT(NVARCHAR(20), [11]) + N'';'' END)
        + (CASE WHEN ISNULL([11-14], 0) = 0 THEN N'''' ELSE N''5:11-14='' + CONVERT(NVARCHAR(20), [11-14]) + N'';'' END)
        + (CASE WHEN ISNULL([12], 0) = 0 THEN N'''' ELSE N''2:12='' + CONVERT(NVARCHAR(20), [12]) + N'';'' END)
        + (CASE WHEN ISNULL([12-18M], 0) = 0 THEN N'''' ELSE N''6:12-18M='' + CONVERT(NVARCHAR(20), [12-18M]) + N'';'' END)
        + (CASE WHEN ISNULL([12/13], 0) = 0 THEN N'''' ELSE N''5:12/13='' + CONVERT(NVARCHAR(20), [12/13]) + N'';'' END)
        + (CASE WHEN ISNULL([12/L], 0) = 0 THEN N'''' ELSE N''4:12/L='' + CONVERT(NVARCHAR(20), [12/L]) + N'';'' END)
        + (CASE WHEN ISNULL([12w], 0) = 0 THEN N'''' ELSE N''3:12w='' + CONVERT(NVARCHAR(20), [12w]) + N'';'' END)
        + (CASE WHEN ISNULL([13], 0) = 0 THEN N'''' ELSE N''2:13='' + CONVERT(NVARCHAR(20), [13]) + N'';'' END)
        + (CASE WHEN ISNULL([14], 0) = 0 THEN N'''' ELSE N''2:14='' + CONVERT(NVARCHAR(20), [14]) + N'';'' END)
        + (CASE WHEN ISNULL([14/XL], 0) = 0 THEN N'''' ELSE N''5:14/XL='' + CONVERT(NVARCHAR(20), [14/XL]) + N'';'' END)
        + (CASE WHEN ISNULL([15], 0) = 0 THEN N'''' ELSE N''2:15='' + CONVERT(NVARCHAR(20), [15]) + N'';'' END)
        + (CASE WHEN ISNULL([16], 0) = 0 THEN N'''' ELSE N''2:16='' + CONVERT(NVARCHAR(20), [16]) + N'';'' END)
        + (CASE WHEN ISNULL([16/XXL], 0) = 0 THEN N'''' ELSE N''6:16/XXL='' + CONVERT(NVARCHAR(20), [16/XXL]) + N'';'' END)
        + (CASE WHEN ISNULL([18], 0) = 0 THEN N'''' ELSE N''2:18='' + CONVERT(NVARCHAR(20), [18]) + N'';'' END)
        + (CASE WHEN ISNULL([18-24M], 0) = 0 THEN N'''' ELSE N''6:18-24M='' + CONVERT(NVARCHAR(20), [18-24M]) + N'';'' END)
        + (CASE WHEN ISNULL([18/XXXL], 0) = 0 THEN N'''' ELSE N''7:18/XXXL='' + CONVERT(NVARCHAR(20), [18/XXXL]) + N'';'' END)
        + (CASE WHEN ISNULL([1X], 0) = 0 THEN N'''' ELSE N''2:1X='' + CONVERT(NVARCHAR(20), [1X]) + N'';'' END)
        + (CASE WHEN ISNULL([1Y], 0) = 0 THEN N'''' ELSE N''2:1Y='' + CONVERT(NVARCHAR(20), [1Y]) + N'';'' END)
        + (CASE WHEN ISNULL([2], 0) = 0 THEN N'''' ELSE N''1:2='' + CONVERT(NVARCHAR(20), [2]) + N'';'' END)
        + (CASE WHEN ISNULL([2/3], 0) = 0 THEN N'''' ELSE N''3:2/3='' + CONVERT(NVARCHAR(20), [2/3]) + N'';'' END)
        + (CASE WHEN ISNULL([20], 0) = 0 THEN N'''' ELSE N''2:20='' + CONVERT(NVARCHAR(20), [20]) + N'';'' END)
        + (CASE WHEN ISNULL([22], 0) = 0 THEN N'''' ELSE N''2:22='' + CONVERT(NVARCHAR(20), [22]) + N'';'' END)
        + (CASE WHEN ISNULL([24], 0) = 0 THEN N'''' ELSE N''2:24='' + CONVERT(NVARCHAR(20), [24]) + N'';'' END)
        + (CASE WHEN ISNULL([26], 0) = 0 THEN N'''' ELSE N''2:26='' + CONVERT(NVARCHAR(20), [26]) + N'';'' END)
        + (CASE WHEN ISNULL([28], 0) = 0 THEN N'''' ELSE N''2:28='' + CONVERT(NVARCHAR(20), [28]) + N'';'' END)
        + (CASE WHEN ISNULL([28-30L], 0) = 0 THEN N'''' ELSE N''6:28-30L='' + CONVERT(NVARCHAR(20), [28-30L]) + N'';'' END)
        + (CASE WHEN ISNULL([28/30], 0) = 0 THEN N'''' ELSE N''5:28/30='' + CONVERT(NVARCHAR(20), [28/30]) + N'';'' END)
        + (CASE WHEN ISNULL([29/30], 0) = 0 THEN N'''' ELSE N''5:29/30='' + CONVERT(NVARCHAR(20), [29/30]) + N'';'' END)
        + (CASE WHEN ISNULL([29/32], 0) = 0 THEN N'''' ELSE N''5:29/32='' + CONVERT(NVARCHAR(20), [29/32]) + N'';'' END)
        + (CASE WHEN ISNULL([2T], 0) = 0 THEN N'''' ELSE N''2:2T='' + CONVERT(NVARCHAR(20), [2T]) + N'';'' END)
        + (CASE WHEN ISNULL([2X], 0) = 0 THEN N'''' ELSE N''2:2X='' + CONVERT(NVARCHAR(20), [2X]) + N'';'' END)
        + (CASE WHEN ISNULL([2XL], 0) = 0 THEN N'''' ELSE N''3:2XL='' + CONVERT(NVARCHAR(20), [2XL]) + N'';'' END)
        + (CASE WHEN ISNULL([2Y], 0) = 0 THEN N'''' ELSE N''2:2Y='' + CONVERT(NVARCHAR(20), [2Y]) + N'';'' END)
        + (CASE WHEN ISNULL([2w], 0) = 0 THEN N'''' ELSE N''2:2w='' + CONVERT(NVARCHAR(20), [2w]) + N'';'' END)
        + (CASE WHEN ISNULL([3], 0) = 0 THEN N'''' ELSE N''1:3='' + CONVERT(NVARCHAR(20), [3]) + N'';'' END)
        + (CASE WHEN ISNULL([3-4 years], 0) = 0 THEN N'''' ELSE N''9:3-4 years='' + CONVERT(NVARCHAR(20), [3-4 years]) + N'';'' END)
        + (CASE WHEN ISNULL([3-6M], 0) = 0 THEN N'''' ELSE N''4:3-6M='' + CONVERT(NVARCHAR(20), [3-6M]) + N'';'' END)
        + (CASE WHEN ISNULL([3/6 MTHS], 0) = 0 THEN N'''' ELSE N''8:3/6 MTHS='' + CONVERT(NVARCHAR(20), [3/6 MTHS]) + N'';'' END)
        + (CASE WHEN ISNULL([30], 0) = 0 THEN N'''' ELSE N''2:30='' + CONVERT(NVARCHAR(20), [30]) + N'';'' END)
        + (CASE WHEN ISNULL([30-30L], 0) = 0 THEN N'''' ELSE N''6:30-30L='' + CONVERT(NVARCHAR(20), [30-30L]) + N'';'' END)
        + (CASE WHEN ISNULL([30-31L], 0) = 0 THEN N'''' ELSE N''6:30-31L='' + CONVERT(NVARCHAR(20), [30-31L]) + N'';'' END)
        + (CASE WHEN ISNULL([30/30], 0) = 0 THEN N'''' ELSE N''5:30/30='' + CONVERT(NVARCHAR(20), [30/30]) + N'';'' END)
        + (CASE WHEN ISNULL([30/32], 0) = 0 THEN N'''' ELSE N''5:30/32='' + CONVERT(NVARCHAR(20), [30/32]) + N'';'' END)
        + (CASE WHEN ISNULL([30x30], 0) = 0 THEN N'''' ELSE N''5:30x30='' + CONVERT(NVARCHAR(20), [30x30]) + N'';'' END)
        + (CASE WHEN ISNULL([30x32], 0) = 0 THEN N'''' ELSE N''5:30x32='' + CONVERT(NVARCHAR(20), [30x32]) + N'';'' END)
        + (CASE WHEN ISNULL([31/30], 0) = 0 THEN N'''' ELSE N''5:31/30='' + CONVERT(NVARCHAR(20), [31/30]) + N'';'' END)
        + (CASE WHEN ISNULL([31/32], 0) = 0 THEN N'''' ELSE N''5:31/32='' + CONVERT(NVARCHAR(20), [31/32]) + N'';'' END)
        + (CASE WHEN ISNULL([32], 0) = 0 THEN N'''' ELSE N''2:32='' + CONVERT(NVARCHAR(20), [32]) + N'';'' END)
        + (CASE WHEN ISNULL([32/30], 0) = 0 THEN N'''' ELSE N''5:32/30='' + CONVERT(NVARCHAR(20), [32/30]) + N'';'' END)
        + (CASE WHEN ISNULL([32/32], 0) = 0 THEN N'''' ELSE N''5:32/32='' + CONVERT(NVARCHAR(20), [32/32]) + N'';'' END)
        + (CASE WHEN ISNULL([32/34], 0) = 0 THEN N'''' ELSE N''5:32/34='' + CONVERT(NVARCHAR(20), [32/34]) + N'';'' END)
        + (CASE WHEN ISNULL([32C], 0) = 0 THEN N'''' ELSE N''3:32C='' + CONVERT(NVARCHAR(20), [32C]) + N'';'' END)
        + (CASE WHEN ISNULL([32D], 0) = 0 THEN N'''' ELSE N''3:32D='' + CONVERT(NVARCHAR(20), [32D]) + N'';'' END)
        + (CASE WHEN ISNULL([32DD], 0) = 0 THEN N'''' ELSE N''4:32DD='' + CONVERT(NVARCHAR(20), [32DD]) + N'';'' END)
        + (CASE WHEN ISNULL([32DDD], 0) = 0 THEN N'''' ELSE N''5:32DDD='' + CONVERT(NVARCHAR(20), [32DDD]) + N'';'' END)
        + (CASE WHEN ISNULL([32x30], 0) = 0 THEN N'''' ELSE N''5:32x30='' + CONVERT(NVARCHAR(20), [32x30]) + N'';'' END)
        + (CASE WHEN ISNULL([33/32], 0) = 0 THEN N'''' ELSE N''5:33/32='' + CONVERT(NVARCHAR(20), [33/32]) + N'';'' END)
        + (CASE WHEN ISNULL([34], 0) = 0 THEN N'''' ELSE N''2:34='' + CONVERT(NVARCHAR(20), [34]) + N'';'' END)
        + (CASE WHEN ISNULL([34/30], 0) = 0 THEN N'''' ELSE N''5:34/30='' + CONVERT(NVARCHAR(20), [34/30]) + N'';'' END)
        + (CASE WHEN ISNULL([34/32], 0) = 0 THEN N'''' ELSE N''5:34/32='' + CONVERT(NVARCHAR(20), [34/32]) + N'';'' END)
        + (CASE WHEN ISNULL([34C], 0) = 0 THEN N'''' ELSE N''3:34C='' + CONVERT(NVARCHAR(20), [34C]) + N'';'' END)
        + (CASE WHEN ISNULL([34D], 0) = 0 THEN N'''' ELSE N''3:34D='' + CONVERT(NVARCHAR(20), [34D]) + N'';'' END)
        + (CASE WHEN ISNULL([34DD], 0) = 0 THEN N'''' ELSE N''4:34DD='' + CONVERT(NVARCHAR(20), [34DD]) + N'';'' END)
        + (CASE WHEN ISNULL([34DDD], 0) = 0 THEN N'''' ELSE N''5:34DDD='' + CONVERT(NVARCHAR(20), [34DDD]) + N'';'' END)
        + (CASE WHEN ISNULL([34x34], 0) = 0 THEN N'''' ELSE N''5:34x34='' + CONVERT(NVARCHAR(20), [34x34]) + N'';'' END)
        + (CASE WHEN ISNULL([36], 0) = 0 THEN N'''' ELSE N''2:36='' + CONVERT(NVARCHAR(20), [36]) + N'';'' END)
        + (CASE WHEN ISNULL([36/30], 0) = 0 THEN N'''' ELSE N''5:36/30='' + CONVERT(NVARCHAR(20), [36/30]) + N'';'' END)
        + (CASE WHEN ISNULL([36/32], 0) = 0 THEN N'''' ELSE N''5:36/32='' + CONVERT(NVARCHAR(20), [36/32]) + N'';'' END)
        + (CASE WHEN ISNULL([36/34], 0) = 0 THEN N'''' ELSE N''5:36/34='' + CONVERT(NVARCHAR(20), [36/34]) + N'';'' END)
        + (CASE WHEN ISNULL([36C], 0) = 0 THEN N'''' ELSE N''3:36C='' + CONVERT(NVARCHAR(20), [36C]) + N'';'' END)
        + (CASE WHEN ISNULL([36D], 0) = 0 THEN N'''' ELSE N''3:36D='' + CONVERT(NVARCHAR(20), [36D]) + N'';'' END)
        + (CASE WHEN ISNULL([36DD], 0) = 0 THEN N'''' ELSE N''4:36DD='' + CONVERT(NVARCHAR(20), [36DD]) + N'';'' END)
        + (CASE WHEN ISNULL([36x32], 0) = 0 THEN N'''' ELSE N''5:36x32='' + CONVERT(NVARCHAR(20), [36x32]) + N'';'' END)
        + (CASE WHEN ISNULL([38], 0) = 0 THEN N'''' ELSE N''2:38='' + CONVERT(NVARCHAR(20), [38]) + N'';'' END)
        + (CASE WHEN ISNULL([38/30], 0) = 0 THEN N'''' ELSE N''5:38/30='' + CONVERT(NVARCHAR(20), [38/30]) + N'';'' END)
        + (CASE WHEN ISNULL([38/32], 0) = 0 THEN N'''' ELSE N''5:38/32='' + CONVERT(NVARCHAR(20), [38/32]) + N'';'' END)
        + (CASE WHEN ISNULL([38C], 0) = 0 THEN N'''' ELSE N''3:38C='' + CONVERT(NVARCHAR(20), [38C]) + N'';'' END)
        + (CASE WHEN ISNULL([38D], 0) = 0 THEN N'''' ELSE N''3:38D='' + CONVERT(NVARCHAR(20), [38D]) + N'';'' END)
        + (CASE WHEN ISNULL([38DD], 0) = 0 THEN N'''' ELSE N''4:38DD='' + CONVERT(NVARCHAR(20), [38DD]) + N'';'' END)
        + (CASE WHEN ISNULL([38x34], 0) = 0 THEN N'''' ELSE N''5:38x34='' + CONVERT(NVARCHAR(20), [38x34]) + N'';'' END)
        + (CASE WHEN ISNULL([3T], 0) = 0 THEN N'''' ELSE N''2:3T='' + CONVERT(NVARCHAR(20), [3T]) + N'';'' END)
        + (CASE WHEN ISNULL([3X], 0) = 0 THEN N'''' ELSE N''2:3X='' + CONVERT(NVARCHAR(20), [3X]) + N'';'' END)
        + (CASE WHEN ISNULL([3XL], 0) = 0 THEN N'''' ELSE N''3:3XL='' + CONVERT(NVARCHAR(20), [3XL]) + N'';'' END)
        + (CASE WHEN ISNULL([3Y], 0) = 0 THEN N'''' ELSE N''2:3Y='' + CONVERT(NVARCHAR(20), [3Y]) + N'';'' END)
        + (CASE WHEN ISNULL([4], 0) = 0 THEN N'''' ELSE N''1:4='' + CONVERT(NVARCHAR(20), [4]) + N'';'' END)
        + (CASE WHEN ISNULL([4/5], 0) = 0 THEN N'''' ELSE N''3:4/5='' + CONVERT(NVARCHAR(20), [4/5]) + N'';'' END)
        + (CASE WHEN ISNULL([40], 0) = 0 THEN N'''' ELSE N''2:40='' + CONVERT(NVARCHAR(20), [40]) + N'';'' END)
        + (CASE WHEN ISNULL([40/32], 0) = 0 THEN N'''' ELSE N''5:40/32='' + CONVERT(NVARCHAR(20), [40/32]) + N'';'' END)
        + (CASE WHEN ISNULL([40x30], 0) = 0 THEN N'''' ELSE N''5:40x30='' + CONVERT(NVARCHAR(20), [40x30]) + N'';'' END)
        + (CASE WHEN ISNULL([42], 0) = 0 THEN N'''' ELSE N''2:42='' + CONVERT(NVARCHAR(20), [42]) + N'';'' END)
        + (CASE WHEN ISNULL([42/32], 0) = 0 THEN N'''' ELSE N''5:42/32='' + CONVERT(NVARCHAR(20), [42/32]) + N'';'' END)
        + (CASE WHEN ISNULL([44], 0) = 0 THEN N'''' ELSE N''2:44='' + CONVERT(NVARCHAR(20), [44]) + N'';'' END)
        + (CASE WHEN ISNULL([46], 0) = 0 THEN N'''' ELSE N''2:46='' + CONVERT(NVARCHAR(20), [46]) + N'';'' END)
        + (CASE WHEN ISNULL([48], 0) = 0 THEN N'''' ELSE N''2:48='' + CONVERT(NVARCHAR(20), [48]) + N'';'' END)
        + (CASE WHEN ISNULL([4T], 0) = 0 THEN N'''' ELSE N''2:4T='' + CONVERT(NVARCHAR(20), [4T]) + N'';'' END)
        + (CASE WHEN ISNULL([4X], 0) = 0 THEN N'''' ELSE N''2:4X='' + CONVERT(NVARCHAR(20), [4X]) + N'';'' END)
        + (CASE WHEN ISNULL([4XL], 0) = 0 THEN N'''' ELSE N''3:4XL='' + CONVERT(NVARCHAR(20), [4XL]) + N'';'' END)
        + (CASE WHEN ISNULL([4XT], 0) = 0 THEN N'''' ELSE N''3:4XT='' + CONVERT(NVARCHAR(20), [4XT]) + N'';'' END)
        + (CASE WHEN ISNULL([4Y], 0) = 0 THEN N'''' ELSE N''2:4Y='' + CONVERT(NVARCHAR(20), [4Y]) + N'';'' END)
        + (CASE WHEN ISNULL([4w], 0) = 0 THEN N'''' ELSE N''2:4w='' + CONVERT(NVARCHAR(20), [4w]) + N'';'' END)
        + (CASE WHEN ISNULL([5], 0) = 0 THEN N'''' ELSE N''1:5='' + CONVERT(NVARCHAR(20), [5]) + N'';'' END)
        + (CASE WHEN ISNULL([50], 0) = 0 THEN N'''' ELSE N''2:50='' + CONVERT(NVARCHAR(20), [50]) + N'';'' END)
        + (CASE WHEN ISNULL([52], 0) = 0 THEN N'''' ELSE N''2:52='' + CONVERT(NVARCHAR(20), [52]) + N'';'' END)
        + (CASE WHEN ISNULL([54], 0) = 0 THEN N'''' ELSE N''2:54='' + CONVERT(NVARCHAR(20), [54]) + N'';'' END)
        + (CASE WHEN ISNULL([56], 0) = 0 THEN N'''' ELSE N''2:56='' + CONVERT(NVARCHAR(20), [56]) + N'';'' END)
        + (CASE WHEN ISNULL([58], 0) = 0 THEN N'''' ELSE N''2:58='' + CONVERT(NVARCHAR(20), [58]) + N'';'' END)
        + (CASE WHEN ISNULL([6], 0) = 0 THEN N'''' ELSE N''1:6='' + CONVERT(NVARCHAR(20), [6]) + N'';'' END)
        + (CASE WHEN ISNULL([6-12M], 0) = 0 THEN N'''' ELSE N''5:6-12M='' + CONVERT(NVARCHAR(20), [6-12M]) + N'';'' END)
        + (CASE WHEN ISNULL([6/7], 0) = 0 THEN N'''' ELSE N''3:6/7='' + CONVERT(NVARCHAR(20), [6/7]) + N'';'' END)
        + (CASE WHEN ISNULL([60], 0) = 0 THEN N'''' ELSE N''2:60='' + CONVERT(NVARCHAR(20), [60]) + N'';'' END)
        + (CASE WHEN ISNULL([6w], 0) = 0 THEN N'''' ELSE N''2:6w='' + CONVERT(NVARCHAR(20), [6w]) + N'';'' END)
        + (CASE WHEN ISNULL([7], 0) = 0 THEN N'''' ELSE N''1:7='' + CONVERT(NVARCHAR(20), [7]) + N'';'' END)
        + (CASE WHEN ISNULL([8], 0) = 0 THEN N'''' ELSE N''1:8='' + CONVERT(NVARCHAR(20), [8]) + N'';'' END)
        + (CASE WHEN ISNULL([8/9], 0) = 0 THEN N'''' ELSE N''3:8/9='' + CONVERT(NVARCHAR(20), [8/9]) + N'';'' END)
        + (CASE WHEN ISNULL([8w], 0) = 0 THEN N'''' ELSE N''2:8w='' + CONVERT(NVARCHAR(20), [8w]) + N'';'' END)
        + (CASE WHEN ISNULL([9], 0) = 0 THEN N'''' ELSE N''1:9='' + CONVERT(NVARCHAR(20), [9]) + N'';'' END)
        + (CASE WHEN ISNULL([AB/M], 0) = 0 THEN N'''' ELSE N''4:AB/M='' + CONVERT(NVARCHAR(20), [AB/M]) + N'';'' END)
        + (CASE WHEN ISNULL([AB/S], 0) = 0 THEN N'''' ELSE N''4:AB/S='' + CONVERT(NVARCHAR(20), [AB/S]) + N'';'' END)
        + (CASE WHEN ISNULL([C/L], 0) = 0 THEN N'''' ELSE N''3:C/L='' + CONVERT(NVARCHAR(20), [C/L]) + N'';'' END)
        + (CASE WHEN ISNULL([C/M], 0) = 0 THEN N'''' ELSE N''3:C/M='' + CONVERT(NVARCHAR(20), [C/M]) + N'';'' END)
        + (CASE WHEN ISNULL([C/S], 0) = 0 THEN N'''' ELSE N''3:C/S='' + CONVERT(NVARCHAR(20), [C/S]) + N'';'' END)
        + (CASE WHEN ISNULL([C/XS], 0) = 0 THEN N'''' ELSE N''4:C/XS='' + CONVERT(NVARCHAR(20), [C/XS]) + N'';'' END)
        + (CASE WHEN ISNULL([CD/XS], 0) = 0 THEN N'''' ELSE N''5:CD/XS='' + CONVERT(NVARCHAR(20), [CD/XS]) + N'';'' END)
        + (CASE WHEN ISNULL([D/L], 0) = 0 THEN N'''' ELSE N''3:D/L='' + CONVERT(NVARCHAR(20), [D/L]) + N'';'' END)
        + (CASE WHEN ISNULL([D/M], 0) = 0 THEN N'''' ELSE N''3:D/M='' + CONVERT(NVARCHAR(20), [D/M]) + N'';'' END)
        + (CASE WHEN ISNULL([D/S], 0) = 0 THEN N'''' ELSE N''3:D/S='' + CONVERT(NVARCHAR(20), [D/S]) + N'';'' END)
        + (CASE WHEN ISNULL([D/XS], 0) = 0 THEN N'''' ELSE N''4:D/XS='' + CONVERT(NVARCHAR(20), [D/XS]) + N'';'' END)
        + (CASE WHEN ISNULL([L], 0) = 0 THEN N'''' ELSE N''1:L='' + CONVERT(NVARCHAR(20), [L]) + N'';'' END)
        + (CASE WHEN ISNULL([L(10-12)], 0) = 0 THEN N'''' ELSE N''8:L(10-12)='' + CONVERT(NVARCHAR(20), [L(10-12)]) + N'';'' END)
        + (CASE WHEN ISNULL([L/XL], 0) = 0 THEN N'''' ELSE N''4:L/XL='' + CONVERT(NVARCHAR(20), [L/XL]) + N'';'' END)
        + (CASE WHEN ISNULL([M], 0) = 0 THEN N'''' ELSE N''1:M='' + CONVERT(NVARCHAR(20), [M]) + N'';'' END)
        + (CASE WHEN ISNULL([M(8-10)], 0) = 0 THEN N'''' ELSE N''7:M(8-10)='' + CONVERT(NVARCHAR(20), [M(8-10)]) + N'';'' END)
        + (CASE WHEN ISNULL([M/L], 0) = 0 THEN N'''' ELSE N''3:M/L='' + CONVERT(NVARCHAR(20), [M/L]) + N'';'' END)
        + (CASE WHEN ISNULL([O/S], 0) = 0 THEN N'''' ELSE N''3:O/S='' + CONVERT(NVARCHAR(20), [O/S]) + N'';'' END)
        + (CASE WHEN ISNULL([ONE SIZE], 0) = 0 THEN N'''' ELSE N''8:ONE SIZE='' + CONVERT(NVARCHAR(20), [ONE SIZE]) + N'';'' END)
        + (CASE WHEN ISNULL([OS], 0) = 0 THEN N'''' ELSE N''2:OS='' + CONVERT(NVARCHAR(20), [OS]) + N'';'' END)
        + (CASE WHEN ISNULL([One Sz], 0) = 0 THEN N'''' ELSE N''6:One Sz='' + CONVERT(NVARCHAR(20), [One Sz]) + N'';'' END)
        + (CASE WHEN ISNULL([One_Size], 0) = 0 THEN N'''' ELSE N''8:One_Size='' + CONVERT(NVARCHAR(20), [One_Size]) + N'';'' END)
        + (CASE WHEN ISNULL([S], 0) = 0 THEN N'''' ELSE N''1:S='' + CONVERT(NVARCHAR(20), [S]) + N'';'' END)
        + (CASE WHEN ISNULL([S(6-8)], 0) = 0 THEN N'''' ELSE N''6:S(6-8)='' + CONVERT(NVARCHAR(20), [S(6-8)]) + N'';'' END)
        + (CASE WHEN ISNULL([S+], 0) = 0 THEN N'''' ELSE N''2:S+='' + CONVERT(NVARCHAR(20), [S+]) + N'';'' END)
        + (CASE WHEN ISNULL([S-PETITE], 0) = 0 THEN N'''' ELSE N''8:S-PETITE='' + CONVERT(NVARCHAR(20), [S-PETITE]) + N'';'' END)
        + (CASE WHEN ISNULL([S/M], 0) = 0 THEN N'''' ELSE N''3:S/M='' + CONVERT(NVARCHAR(20), [S/M]) + N'';'' END)
        + (CASE WHEN ISNULL([S/P], 0) = 0 THEN N'''' ELSE N''3:S/P='' + CONVERT(NVARCHAR(20), [S/P]) + N'';'' END)
        + (CASE WHEN ISNULL([XL], 0) = 0 THEN N'''' ELSE N''2:XL='' + CONVERT(NVARCHAR(20), [XL]) + N'';'' END)
        + (CASE WHEN ISNULL([XL/XXL], 0) = 0 THEN N'''' ELSE N''6:XL/XXL='' + CONVERT(NVARCHAR(20), [XL/XXL]) + N'';'' END)
        + (CASE WHEN ISNULL([XS], 0) = 0 THEN N'''' ELSE N''2:XS='' + CONVERT(NVARCHAR(20), [XS]) + N'';'' END)
        + (CASE WHEN ISNULL([XS-PETITE], 0) = 0 THEN N'''' ELSE N''9:XS-PETITE='' + CONVERT(NVARCHAR(20), [XS-PETITE]) + N'';'' END)
        + (CASE WHEN ISNULL([XS/S], 0) = 0 THEN N'''' ELSE N''4:XS/S='' + CONVERT(NVARCHAR(20), [XS/S]) + N'';'' END)
        + (CASE WHEN ISNULL([XXL], 0) = 0 THEN N'''' ELSE N''3:XXL='' + CONVERT(NVARCHAR(20), [XXL]) + N'';'' END)
        + (CASE WHEN ISNULL([XXS], 0) = 0 THEN N'''' ELSE N''3:XXS='' + CONVERT(NVARCHAR(20), [XXS]) + N'';'' END)
        + (CASE WHEN ISNULL([XXXL], 0) = 0 THEN N'''' ELSE N''4:XXXL='' + CONVERT(NVARCHAR(20), [XXXL]) + N'';'' END)
        + (CASE WHEN ISNULL([XXXS], 0) = 0 THEN N'''' ELSE N''4:XXXS='' + CONVERT(NVARCHAR(20), [XXXS]) + N'';'' END)) AS BINARY(32)) PERSISTED;';
        EXEC sys.sp_executesql @sql;
        PRINT N'added dbo.ORDERS_UNIFIED.record_hash, computed and persisted (every row written)';
        EXEC sys.sp_addextendedproperty
            @name = N'orders_sync_basis', @value = @basis,
            @level0type = N'SCHEMA', @level0name = N'dbo',
            @level1type = N'TABLE', @level1name = N'ORDERS_UNIFIED',
            @level2type = N'COLUMN', @level2name = N'record_hash';
    END;

    -- 3. The index detection's join reads (dynamic SQL: the column may be new in this batch).
    IF NOT EXISTS (
        SELECT 1 FROM sys.indexes
        WHERE object_id = OBJECT_ID(N'dbo.ORDERS_UNIFIED') AND name = N'IX_ORDERS_UNIFIED_uuid_hash'
    )
    BEGIN
        EXEC sys.sp_executesql
            N'CREATE NONCLUSTERED INDEX IX_ORDERS_UNIFIED_uuid_hash
                  ON dbo.ORDERS_UNIFIED (record_uuid, record_hash);';
        PRINT N'created IX_ORDERS_UNIFIED_uuid_hash';
    END
    ELSE
        PRINT N'IX_ORDERS_UNIFIED_uuid_hash already present: unchanged';

    -- Record the run (000 made the table; a re-run keeps the first row).
    IF NOT EXISTS (SELECT 1 FROM dbo.MON_SchemaVersion WHERE script_number = 7)
    BEGIN
        INSERT INTO dbo.MON_SchemaVersion (script_number, script_name, applied_at, applied_by)
        VALUES (7, N'007_record_hash.sql', SYSDATETIME(), ORIGINAL_LOGIN());
        PRINT N'recorded 007_record_hash.sql in dbo.MON_SchemaVersion';
    END
    ELSE
        PRINT N'007_record_hash.sql already recorded in dbo.MON_SchemaVersion';

    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
