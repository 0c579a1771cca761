; Inno Setup 6 script for VRP Desktop (Windows 10/11, x64).
;
; Build on Windows after `pyinstaller build.spec` has made dist\vrp-desktop:
;   iscc /DAppVersion=0.1.0 packaging\windows\vrp-desktop.iss
; (`python packaging\windows\build_installer.py` reads the version from pyproject.toml and runs
; iscc for you.) The installer lands in dist\vrp-desktop-<version>-windows-x64-setup.exe.
;
; What it does: installs the program folder (per user by default, no admin rights needed; an
; administrator can choose "all users"), adds Start menu shortcuts for VRP Desktop and its
; self-test, optionally a desktop shortcut, and registers an uninstaller. It never creates,
; moves or deletes workspaces: records live in %LOCALAPPDATA%\VRP\vrp-desktop (or wherever the
; person chose) and stay there when the program is uninstalled or upgraded.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z vrp-desktop.iss
#endif
#define AppName "VRP Desktop"
#define AppExe "vrp-desktop.exe"
#define SourceDir "..\..\dist\vrp-desktop"

[Setup]
; AppId identifies the product across versions: never change it, or upgrades install twice.
AppId={{6C0F3E52-8E7B-4C55-9A43-2B1E5D0C7A19}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=VRP Desktop contributors
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=commandline dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename=vrp-desktop-{#AppVersion}-windows-x64-setup
SetupIconFile=vrp-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; close a running copy before files are replaced (the app saves on close)
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; the whole one-dir bundle: vrp-desktop.exe (window), vrp-desktop-console.exe (same app with a
; console, for --self-test and support), vrp.exe (command line) and _internal\
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; an upgrade replaces the bundle's libraries wholesale, so files dropped by a newer version go
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autoprograms}\{#AppName} self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\vrp-desktop-console.exe"" --self-test"; IconFilename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; only the program folder; workspaces in %LOCALAPPDATA%\VRP\vrp-desktop are left in place
Type: filesandordirs; Name: "{app}\_internal"
