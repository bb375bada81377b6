// Package updateinfo reads repository errata of dnf and yum repositories
// into patchcore patches: updateinfo.xml as Rocky Linux, AlmaLinux, Amazon
// Linux, Fedora, Oracle Linux, CentOS or any dnf repository publishes it
// (Format; plain, gzip, bzip2, xz or zstd, recognised by content), the
// repomd.xml index that says where updateinfo.xml is (ReadRepomd), and
// AlmaLinux's errata.json ([AlmaErrata]).
//
// Each <update> becomes one patchcore.Patch: ID the advisory
// ("RLSA-2023:3220", "ALAS2023-2023-001"), Source "updateinfo" (or
// "alma-errata"), Classification from the type, Severity from <severity>,
// Released and Revised from the issued and updated dates, CVEs from the
// references of type "cve". Each binary package of the pkglist becomes a
// Fix: Distro ("rocky", "almalinux", "amzn", "fedora", "rhel", "ol",
// "centos") and Release (the major version, "2023" or "2" for Amazon
// Linux) from the advisory ID, the <release> element or the package's dist
// tag; Package the binary rpm name (PackageKind binary), Arch, Scheme "rpm",
// FixedVersion "epoch:version-release" (the epoch kept when the feed gives
// it), ModuleStream "name:stream" for packages of a <module> collection,
// Reboot from reboot_suggested. Source rpms (arch "src") are skipped and
// fixes repeated across collections are kept once.
//
// The parsers stream: one <update> (one errata object) is decoded at a
// time. A malformed document gives a *feed.ParseError naming the file, the
// line and column (XML) or byte offset (JSON) and the element concerned.
package updateinfo
