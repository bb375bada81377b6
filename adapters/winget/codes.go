package winget

import "fmt"

// HRESULTs winget exits with (AppInstallerErrors.h in microsoft/winget-cli;
// doc/windows/package-manager/winget/returnCodes.md lists them with
// descriptions). The process exit code is the HRESULT as a 32-bit value.
const (
	hrNoApplicationsFound       = 0x8A150014 // No packages found
	hrCommandRequiresAdmin      = 0x8A150019 // Command requires administrator privileges to run
	hrUpdateNotApplicable       = 0x8A15002B // No applicable update found
	hrUpdateAllHasFailure       = 0x8A15002C // winget upgrade --all completed with failures
	hrInstallerHashMismatch     = 0x8A150011 // The installer file's hash does not match the manifest
	hrPackageAgreementsNotOK    = 0x8A150041 // Package agreements were not agreed to
	hrSourceAgreementsNotOK     = 0x8A150046 // Source agreements were not agreed to
	hrUpgradeVersionNotNewer    = 0x8A15004F // The upgrade version is not newer than the installed version
	hrUpgradeVersionUnknown     = 0x8A150050 // Upgrade version is unknown and override is not specified
	hrInstallerProhibitsElevate = 0x8A150056 // The installer cannot be run from an administrator context
	hrPackageAlreadyInstalled   = 0x8A150061 // Found at least one version of the package installed
	hrPackageIsPinned           = 0x8A150068 // The package has a pin that prevents upgrade
	hrInstallPackageInUse       = 0x8A150101 // Application is currently running
	hrInstallInProgress         = 0x8A150102 // Another installation is already in progress
	hrInstallFileInUse          = 0x8A150103 // One or more file is being used
	hrInstallMissingDependency  = 0x8A150104
	hrInstallDiskFull           = 0x8A150105
	hrInstallNoNetwork          = 0x8A150107
	hrInstallRebootToFinish     = 0x8A150109 // Restart your PC to finish installation
	hrInstallRebootToInstall    = 0x8A15010A // Installation failed. Restart your PC then try again
	hrInstallRebootInitiated    = 0x8A15010B // Your PC will restart to finish installation
	hrInstallCancelledByUser    = 0x8A15010C
	hrInstallAlreadyInstalled   = 0x8A15010D // Another version of this application is already installed
	hrInstallDowngrade          = 0x8A15010E // A higher version of this application is already installed
	hrInstallBlockedByPolicy    = 0x8A15010F
	hrInstallInUseByApplication = 0x8A150111
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
	case hrNoApplicationsFound:
		return "APPINSTALLER_CLI_ERROR_NO_APPLICATIONS_FOUND"
	case hrCommandRequiresAdmin:
		return "APPINSTALLER_CLI_ERROR_COMMAND_REQUIRES_ADMIN"
	case hrUpdateNotApplicable:
		return "APPINSTALLER_CLI_ERROR_UPDATE_NOT_APPLICABLE"
	case hrUpdateAllHasFailure:
		return "APPINSTALLER_CLI_ERROR_UPDATE_ALL_HAS_FAILURE"
	case hrInstallerHashMismatch:
		return "APPINSTALLER_CLI_ERROR_INSTALLER_HASH_MISMATCH"
	case hrPackageAgreementsNotOK:
		return "APPINSTALLER_CLI_ERROR_PACKAGE_AGREEMENTS_NOT_ACCEPTED"
	case hrSourceAgreementsNotOK:
		return "APPINSTALLER_CLI_ERROR_SOURCE_AGREEMENTS_NOT_ACCEPTED"
	case hrUpgradeVersionNotNewer:
		return "APPINSTALLER_CLI_ERROR_UPGRADE_VERSION_NOT_NEWER"
	case hrUpgradeVersionUnknown:
		return "APPINSTALLER_CLI_ERROR_UPGRADE_VERSION_UNKNOWN"
	case hrInstallerProhibitsElevate:
		return "APPINSTALLER_CLI_ERROR_INSTALLER_PROHIBITS_ELEVATION"
	case hrPackageAlreadyInstalled:
		return "APPINSTALLER_CLI_ERROR_PACKAGE_ALREADY_INSTALLED"
	case hrPackageIsPinned:
		return "APPINSTALLER_CLI_ERROR_PACKAGE_IS_PINNED"
	case hrInstallPackageInUse:
		return "APPINSTALLER_CLI_ERROR_INSTALL_PACKAGE_IN_USE"
	case hrInstallInProgress:
		return "APPINSTALLER_CLI_ERROR_INSTALL_INSTALL_IN_PROGRESS"
	case hrInstallFileInUse:
		return "APPINSTALLER_CLI_ERROR_INSTALL_FILE_IN_USE"
	case hrInstallMissingDependency:
		return "APPINSTALLER_CLI_ERROR_INSTALL_MISSING_DEPENDENCY"
	case hrInstallDiskFull:
		return "APPINSTALLER_CLI_ERROR_INSTALL_DISK_FULL"
	case hrInstallNoNetwork:
		return "APPINSTALLER_CLI_ERROR_INSTALL_NO_NETWORK"
	case hrInstallRebootToFinish:
		return "APPINSTALLER_CLI_ERROR_INSTALL_REBOOT_REQUIRED_TO_FINISH"
	case hrInstallRebootToInstall:
		return "APPINSTALLER_CLI_ERROR_INSTALL_REBOOT_REQUIRED_TO_INSTALL"
	case hrInstallRebootInitiated:
		return "APPINSTALLER_CLI_ERROR_INSTALL_REBOOT_INITIATED"
	case hrInstallCancelledByUser:
		return "APPINSTALLER_CLI_ERROR_INSTALL_CANCELLED_BY_USER"
	case hrInstallAlreadyInstalled:
		return "APPINSTALLER_CLI_ERROR_INSTALL_ALREADY_INSTALLED"
	case hrInstallDowngrade:
		return "APPINSTALLER_CLI_ERROR_INSTALL_DOWNGRADE"
	case hrInstallBlockedByPolicy:
		return "APPINSTALLER_CLI_ERROR_INSTALL_BLOCKED_BY_POLICY"
	case hrInstallInUseByApplication:
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
