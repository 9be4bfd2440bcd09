; Inno Setup script (Inno Setup 6.3 or later): the Windows installer of orders-sync.
;
; Build on Windows, after the one-folder build (`pyinstaller --noconfirm --clean build.spec`
; from the checkout, which makes dist\orders-sync\):
;
;     iscc packaging\windows\orders-sync.iss
;
; It writes dist\orders-sync-setup-<version>.exe. The version is read from the window app's
; version resource, which build.spec makes from pyproject.toml: one place for the version.
; The installer installs for the current user only (no administrator rights: under
; %LOCALAPPDATA%\Programs\orders-sync), adds a Start-menu shortcut to the window app and
; registers an uninstaller (Settings > Apps). The settings, the demo database and the logs
; live in the user's own folders and are left in place by the uninstaller.
;
; Nothing of this can be built or run on the Linux machines the project is developed on:
; it has never been compiled here (see README, "Windows delivery").

#define AppName "orders-sync"
#define DistDir "..\..\dist\orders-sync"
; The window app (build.spec's NAME) and the command line, side by side in the one folder.
#define GuiExe "orders-sync-gui.exe"
#define CliExe "orders-sync.exe"
#define AppVersion GetVersionNumbersString(AddBackslash(SourcePath) + DistDir + "\" + GuiExe)

[Setup]
; The AppId stays the same for every version: an upgrade replaces, an uninstall finds it.
AppId={{6C1E4D52-3B7A-4F0E-9A43-0D5E2B7C9F18}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppName}
VersionInfoVersion={#AppVersion}
; Per-user: no UAC prompt; {autopf} is %LOCALAPPDATA%\Programs for a per-user install.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
UninstallDisplayName={#AppName} {#AppVersion}
UninstallDisplayIcon={app}\{#GuiExe}
SetupIconFile=..\..\resources\icons\orders-sync.ico
OutputDir=..\..\dist
OutputBaseFilename=orders-sync-setup-{#AppVersion}
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
; The app must not be running while its files are replaced.
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder build: both executables and the _internal folder they share.
Source: "{#DistDir}\{#GuiExe}"; DestDir: "{app}"; Flags: ignoreversion
Source: "{#DistDir}\{#CliExe}"; DestDir: "{app}"; Flags: ignoreversion
Source: "{#DistDir}\*"; DestDir: "{app}"; Excludes: "{#GuiExe},{#CliExe}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#GuiExe}"; WorkingDir: "{app}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#GuiExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#GuiExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
