package winget

import "fmt"

// HRESULTs winget exits with (AppInstallerErrors.h in microsoft/winget-cli;
// doc/windows/package-manager/winget/returnCodes.md lists them with
// descriptions). The process exit code is the HRESULT as a 32-bit value.
const (
	ErrNoApplicationsFound       = 0x8A150014 // No packages found
	ErrCommandRequiresAdmin      = 0x8A150019 // Command requires administrator privileges to run
	ErrUpdateNotApplicable       = 0x8A15002B // No applicable update found
	ErrUpdateAllHasFailure       = 0x8A15002C // winget upgrade --all completed with failures
	ErrInstallerHashMismatch     = 0x8A150011 // The installer file's hash does not match the manifest
	ErrPackageAgreementsNotOK    = 0x8A150041 // Package agreements were not agreed to
	ErrSourceAgreementsNotOK     = 0x8A150046 // Source agreements were not agreed to
	ErrUpgradeVersionNotNewer    = 0x8A15004F // The upgrade version is not newer than the installed version
	ErrUpgradeVersionUnknown     = 0x8A150050 // Upgrade version is unknown and override is not specified
	ErrInstallerProhibitsElevate = 0x8A150056 // The installer cannot be run from an administrator context
	ErrPackageAlreadyInstalled   = 0x8A150061 // Found at least one version of the package installed
	ErrPackageIsPinned           = 0x8A150068 // The package has a pin that prevents upgrade
	ErrInstallPackageInUse       = 0x8A150101 // Application is currently running
	ErrInstallInProgress         = 0x8A150102 // Another installation is already in progress
	ErrInstallFileInUse          = 0x8A150103 // One or more file is being used
	ErrInstallMissingDependency  = 0x8A150104
	ErrInstallDiskFull           = 0x8A150105
	ErrInstallNoNetwork          = 0x8A150107
	ErrInstallRebootToFinish     = 0x8A150109 // Restart your PC to finish installation
	ErrInstallRebootToInstall    = 0x8A15010A // Installation failed. Restart your PC then try again
	ErrInstallRebootInitiated    = 0x8A15010B // Your PC will restart to finish installation
	ErrInstallCancelledByUser    = 0x8A15010C
	ErrInstallAlreadyInstalled   = 0x8A15010D // Another version of this application is already installed
	ErrInstallDowngrade          = 0x8A15010E // A higher version of this application is already installed
	ErrInstallBlockedByPolicy    = 0x8A15010F
	ErrInstallInUseByApplication = 0x8A150111
)

// Windows installer exit codes winget may pass through.
const (
	exitRebootInitiated = 1641
	exitRebootRequired  = 3010
	exitMSIBusy         = 1618
)

// codeNames names the codes above for reasons.
func codeName(code uint32) string {
	switch code {
	case ErrNoApplicationsFound:
		return "APPINSTALLER_CLI_ERROR_NO_APPLICATIONS_FOUND"
	case ErrCommandRequiresAdmin:
		return "APPINSTALLER_CLI_ERROR_COMMAND_REQUIRES_ADMIN"
	case ErrUpdateNotApplicable:
		return "APPINSTALLER_CLI_ERROR_UPDATE_NOT_APPLICABLE"
	case ErrUpdateAllHasFailure:
		return "APPINSTALLER_CLI_ERROR_UPDATE_ALL_HAS_FAILURE"
	case ErrInstallerHashMismatch:
		return "APPINSTALLER_CLI_ERROR_INSTALLER_HASH_MISMATCH"
	case ErrPackageAgreementsNotOK:
		return "APPINSTALLER_CLI_ERROR_PACKAGE_AGREEMENTS_NOT_ACCEPTED"
	case ErrSourceAgreementsNotOK:
		return "APPINSTALLER_CLI_ERROR_SOURCE_AGREEMENTS_NOT_ACCEPTED"
	case ErrUpgradeVersionNotNewer:
		return "APPINSTALLER_CLI_ERROR_UPGRADE_VERSION_NOT_NEWER"
	case ErrUpgradeVersionUnknown:
		return "APPINSTALLER_CLI_ERROR_UPGRADE_VERSION_UNKNOWN"
	case ErrInstallerProhibitsElevate:
		return "APPINSTALLER_CLI_ERROR_INSTALLER_PROHIBITS_ELEVATION"
	case ErrPackageAlreadyInstalled:
		return "APPINSTALLER_CLI_ERROR_PACKAGE_ALREADY_INSTALLED"
	case ErrPackageIsPinned:
		return "APPINSTALLER_CLI_ERROR_PACKAGE_IS_PINNED"
	case ErrInstallPackageInUse:
		return "APPINSTALLER_CLI_ERROR_INSTALL_PACKAGE_IN_USE"
	case ErrInstallInProgress:
		return "APPINSTALLER_CLI_ERROR_INSTALL_INSTALL_IN_PROGRESS"
	case ErrInstallFileInUse:
		return "APPINSTALLER_CLI_ERROR_INSTALL_FILE_IN_USE"
	case ErrInstallMissingDependency:
		return "APPINSTALLER_CLI_ERROR_INSTALL_MISSING_DEPENDENCY"
	case ErrInstallDiskFull:
		return "APPINSTALLER_CLI_ERROR_INSTALL_DISK_FULL"
	case ErrInstallNoNetwork:
		return "APPINSTALLER_CLI_ERROR_INSTALL_NO_NETWORK"
	case ErrInstallRebootToFinish:
		return "APPINSTALLER_CLI_ERROR_INSTALL_REBOOT_REQUIRED_TO_FINISH"
	case ErrInstallRebootToInstall:
		return "APPINSTALLER_CLI_ERROR_INSTALL_REBOOT_REQUIRED_TO_INSTALL"
	case ErrInstallRebootInitiated:
		return "APPINSTALLER_CLI_ERROR_INSTALL_REBOOT_INITIATED"
	case ErrInstallCancelledByUser:
		return "APPINSTALLER_CLI_ERROR_INSTALL_CANCELLED_BY_USER"
	case ErrInstallAlreadyInstalled:
		return "APPINSTALLER_CLI_ERROR_INSTALL_ALREADY_INSTALLED"
	case ErrInstallDowngrade:
		return "APPINSTALLER_CLI_ERROR_INSTALL_DOWNGRADE"
	case ErrInstallBlockedByPolicy:
		return "APPINSTALLER_CLI_ERROR_INSTALL_BLOCKED_BY_POLICY"
	case ErrInstallInUseByApplication:
		return "APPINSTALLER_CLI_ERROR_INSTALL_PACKAGE_IN_USE_BY_APPLICATION"
	}
	return ""
}

// describe renders an exit code for a reason: "0x8A150101
// (APPINSTALLER_CLI_ERROR_INSTALL_PACKAGE_IN_USE)" or "exit 1".
func describe(code uint32) string {
	if code&0x80000000 == 0 {
		return fmt.Sprintf("exit %d", code)
	}
	if n := codeName(code); n != "" {
		return fmt.Sprintf("0x%08X (%s)", code, n)
	}
	return fmt.Sprintf("0x%08X", code)
}
