//go:build windows

package winreboot

import "golang.org/x/sys/windows"

var errAccessDenied error = windows.ERROR_ACCESS_DENIED
