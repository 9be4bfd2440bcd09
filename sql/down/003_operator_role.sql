/*
    down/003_operator_role.sql                             SQL Server 2016 or later

    Undoes 003: removes every member from the role orders_sync_operator (the users and
    groups themselves stay), then drops the role; its grants go with it. No table or
    data is touched, except 003's row in dbo.MON_SchemaVersion, which is removed. After
    this, the app's operators cannot reach the sync tables.

    Idempotent: when the role is gone already, nothing happens.
    One batch, one transaction (no GO).
*/
SET NOCOUNT ON;
SET XACT_ABORT ON;

DECLARE @role SYSNAME = N'orders_sync_operator';
DECLARE @sql NVARCHAR(MAX);

BEGIN TRY
    BEGIN TRANSACTION;

    IF DATABASE_PRINCIPAL_ID(@role) IS NOT NULL
    BEGIN
        -- A role with members cannot be dropped.
        SET @sql = N'';
        SELECT @sql += N'ALTER ROLE ' + QUOTENAME(@role) + N' DROP MEMBER '
            + QUOTENAME(u.name) + N';' + NCHAR(10)
        FROM sys.database_role_members AS m
        JOIN sys.database_principals AS u ON u.principal_id = m.member_principal_id
        WHERE m.role_principal_id = DATABASE_PRINCIPAL_ID(@role);
        IF @sql <> N''
        BEGIN
            PRINT N'removing members:' + NCHAR(10) + @sql;
            EXEC sys.sp_executesql @sql;
        END;

        DROP ROLE orders_sync_operator;
        PRINT N'dropped role orders_sync_operator';
    END
    ELSE
        PRINT N'role orders_sync_operator does not exist: nothing to do';

    -- The run is no longer in the database: remove its record (000 made the table).
    IF OBJECT_ID(N'dbo.MON_SchemaVersion', N'U') IS NOT NULL
    BEGIN
        DELETE FROM dbo.MON_SchemaVersion WHERE script_number = 3;
        IF @@ROWCOUNT > 0
            PRINT N'removed 003_operator_role.sql from dbo.MON_SchemaVersion';
    END;

    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0
        ROLLBACK TRANSACTION;
    THROW;
END CATCH;
