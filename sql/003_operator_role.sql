/*
    003_operator_role.sql                                  SQL Server 2016 or later

    Creates the database role orders_sync_operator and gives it exactly what the app
    does, object by object, and nothing else (no db_datareader/db_datawriter, no schema-
    wide grant, no DDL; the DBA runs 000, 001 and 002):

      object                                  SELECT INSERT UPDATE DELETE   why
      dbo.ORDERS_UNIFIED                        x                           reads orders
      dbo.MON_BatchProcessing                   x      x      x             stage; push, undo and
                                                                            rollback set its status
      dbo.STG_MON_CustMasterSchedule            x      x      x      x      stage; push and undo
                                                                            write each row's status,
                                                                            monday id, error, retry
                                                                            count; rollback deletes
      dbo.STG_MON_CustMasterSchedule_Subitems   x      x      x      x      the same, per size
      dbo.MON_SyncState                         x      x             x      saved as delete + insert
      dbo.MON_CustomerLock                      x      x             x      lock = insert, unlock = delete
      dbo.MON_SchemaVersion                     x                           checks at start-up which
                                                                            scripts ran (only these
                                                                            scripts write it)

    Not granted, because the code never does it: any write to ORDERS_UNIFIED (the app
    does not write record_hash), DELETE on MON_BatchProcessing (batch history is kept),
    UPDATE on MON_SyncState and MON_CustomerLock, any write to MON_SchemaVersion (on
    SQL Server only these scripts record their runs there). When a later version of the
    app needs more, it is added here, in this list, with the reason.
    SELECT also covers what the app reads while writing (the WHERE of its UPDATEs and
    DELETEs, SET stg_retry_count = stg_retry_count + 1, OUTPUT inserted.batch_id when a
    batch row is inserted) and makes the tables' metadata visible to the app's start-up
    checks (INFORMATION_SCHEMA, sys.columns): no VIEW DEFINITION is needed.

    Re-running converges: the role ends with exactly the grants below, whatever it held
    before. Any other GRANT on an object, on a schema or on the database held by this
    role, and any membership of this role in another role, is revoked or removed (each
    one PRINTed). DENYs are left alone: they only take rights away. A database where an
    earlier 003 ran (before the push: no UPDATE on the two STG_ tables) gets the two new
    grants by running this again, before the first push.

    Non-breaking: it creates one role and grants to it; no table or data changes.
    Run after 000, 001 and 002; it records itself in MON_SchemaVersion. Idempotent.
    Undo: sql/down/003_operator_role.sql.
    Members are added by the DBA (see sql/README.md), e.g.
        ALTER ROLE orders_sync_operator ADD MEMBER [DOMAIN\orders-sync-operators];
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;

DECLARE @role SYSNAME = N'orders_sync_operator';

DECLARE @wanted TABLE (
    object_name SYSNAME NOT NULL,
    permission_name NVARCHAR(128) NOT NULL,
    PRIMARY KEY (object_name, permission_name)
);
INSERT INTO @wanted (object_name, permission_name)
VALUES
    (N'ORDERS_UNIFIED', N'SELECT'),
    (N'MON_BatchProcessing', N'SELECT'),
    (N'MON_BatchProcessing', N'INSERT'),
    (N'MON_BatchProcessing', N'UPDATE'),
    (N'STG_MON_CustMasterSchedule', N'SELECT'),
    (N'STG_MON_CustMasterSchedule', N'INSERT'),
    (N'STG_MON_CustMasterSchedule', N'UPDATE'),
    (N'STG_MON_CustMasterSchedule', N'DELETE'),
    (N'STG_MON_CustMasterSchedule_Subitems', N'SELECT'),
    (N'STG_MON_CustMasterSchedule_Subitems', N'INSERT'),
    (N'STG_MON_CustMasterSchedule_Subitems', N'UPDATE'),
    (N'STG_MON_CustMasterSchedule_Subitems', N'DELETE'),
    (N'MON_SyncState', N'SELECT'),
    (N'MON_SyncState', N'INSERT'),
    (N'MON_SyncState', N'DELETE'),
    (N'MON_CustomerLock', N'SELECT'),
    (N'MON_CustomerLock', N'INSERT'),
    (N'MON_CustomerLock', N'DELETE'),
    (N'MON_SchemaVersion', N'SELECT');

-- Every object must exist: a GRANT on a missing table would fail half way.
-- (No STRING_AGG: it needs SQL Server 2017.)
DECLARE @missing NVARCHAR(MAX);
SELECT @missing = COALESCE(@missing + N', ', N'') + N'dbo.' + w.object_name
FROM (SELECT DISTINCT object_name FROM @wanted) AS w
WHERE OBJECT_ID(N'dbo.' + QUOTENAME(w.object_name), N'U') IS NULL;
IF @missing IS NOT NULL
BEGIN
    DECLARE @msg NVARCHAR(2048) =
        N'missing table(s) ' + @missing + N': run 000, 001 and 002 first. Nothing was changed.';
    THROW 50031, @msg, 1;
END;

DECLARE @sql NVARCHAR(MAX);

BEGIN TRY
    BEGIN TRANSACTION;

    IF DATABASE_PRINCIPAL_ID(@role) IS NULL
    BEGIN
        CREATE ROLE orders_sync_operator AUTHORIZATION dbo;
        PRINT N'created role orders_sync_operator';
    END
    ELSE IF NOT EXISTS (
        SELECT 1 FROM sys.database_principals
        WHERE name = @role AND type = 'R'
    )
        THROW 50032, N'orders_sync_operator exists but is not a database role (a user?): rename it and run again.', 1;

    -- 1. Revoke what the role holds beyond the list: object grants not wanted ...
    SET @sql = N'';
    SELECT @sql += N'REVOKE ' + p.permission_name + N' ON OBJECT::'
        + QUOTENAME(SCHEMA_NAME(o.schema_id)) + N'.' + QUOTENAME(o.name)
        + CASE WHEN p.minor_id <> 0 THEN N' (' + QUOTENAME(c.name) + N')' ELSE N'' END
        + N' FROM ' + QUOTENAME(@role) + N' CASCADE;' + NCHAR(10)
    FROM sys.database_permissions AS p
    JOIN sys.objects AS o ON o.object_id = p.major_id
    LEFT JOIN sys.columns AS c ON c.object_id = p.major_id AND c.column_id = p.minor_id
    WHERE p.class = 1
      AND p.grantee_principal_id = DATABASE_PRINCIPAL_ID(@role)
      AND p.state IN ('G', 'W')
      AND NOT (
          p.minor_id = 0
          AND o.schema_id = SCHEMA_ID(N'dbo')
          AND EXISTS (
              SELECT 1 FROM @wanted AS w
              WHERE w.object_name = o.name AND w.permission_name = p.permission_name
          )
      );
    -- ... grants on schemas ...
    SELECT @sql += N'REVOKE ' + p.permission_name + N' ON SCHEMA::'
        + QUOTENAME(SCHEMA_NAME(p.major_id)) + N' FROM ' + QUOTENAME(@role) + N' CASCADE;'
        + NCHAR(10)
    FROM sys.database_permissions AS p
    WHERE p.class = 3
      AND p.grantee_principal_id = DATABASE_PRINCIPAL_ID(@role)
      AND p.state IN ('G', 'W');
    -- ... and grants on the database itself (CREATE TABLE, EXECUTE, ...).
    SELECT @sql += N'REVOKE ' + p.permission_name + N' FROM ' + QUOTENAME(@role)
        + N' CASCADE;' + NCHAR(10)
    FROM sys.database_permissions AS p
    WHERE p.class = 0
      AND p.grantee_principal_id = DATABASE_PRINCIPAL_ID(@role)
      AND p.state IN ('G', 'W');
    -- Membership in other roles (db_datareader, db_owner ...) would widen the role.
    SELECT @sql += N'ALTER ROLE ' + QUOTENAME(r.name) + N' DROP MEMBER '
        + QUOTENAME(@role) + N';' + NCHAR(10)
    FROM sys.database_role_members AS m
    JOIN sys.database_principals AS r ON r.principal_id = m.role_principal_id
    WHERE m.member_principal_id = DATABASE_PRINCIPAL_ID(@role);
    IF @sql <> N''
    BEGIN
        PRINT N'removing rights beyond the list:' + NCHAR(10) + @sql;
        EXEC sys.sp_executesql @sql;
    END;

    -- 2. Grant the list (GRANT is idempotent).
    GRANT SELECT ON OBJECT::dbo.ORDERS_UNIFIED TO orders_sync_operator;

    GRANT SELECT, INSERT, UPDATE ON OBJECT::dbo.MON_BatchProcessing TO orders_sync_operator;

    GRANT SELECT, INSERT, UPDATE, DELETE ON OBJECT::dbo.STG_MON_CustMasterSchedule
        TO orders_sync_operator;
    GRANT SELECT, INSERT, UPDATE, DELETE ON OBJECT::dbo.STG_MON_CustMasterSchedule_Subitems
        TO orders_sync_operator;

    GRANT SELECT, INSERT, DELETE ON OBJECT::dbo.MON_SyncState TO orders_sync_operator;

    GRANT SELECT, INSERT, DELETE ON OBJECT::dbo.MON_CustomerLock TO orders_sync_operator;

    GRANT SELECT ON OBJECT::dbo.MON_SchemaVersion TO orders_sync_operator;

    -- Record the run (000 made the table; a re-run keeps the first row).
    IF NOT EXISTS (SELECT 1 FROM dbo.MON_SchemaVersion WHERE script_number = 3)
    BEGIN
        INSERT INTO dbo.MON_SchemaVersion (script_number, script_name, applied_at, applied_by)
        VALUES (3, N'003_operator_role.sql', SYSDATETIME(), ORIGINAL_LOGIN());
        PRINT N'recorded 003_operator_role.sql in dbo.MON_SchemaVersion';
    END
    ELSE
        PRINT N'003_operator_role.sql already recorded in dbo.MON_SchemaVersion';

    COMMIT TRANSACTION;
    PRINT N'orders_sync_operator holds exactly the grants listed in this script';
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
