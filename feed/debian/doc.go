// Package debian reads Debian's security data into patchcore patches:
//
//   - the security tracker JSON ([Tracker]), keyed by source package,
//     CVE and release codename;
//   - the debsecan feed ([Debsecan]), the zlib-compressed text file
//     debsecan downloads per suite;
//   - the DSA and DLA lists of the security tracker's repository
//     ([AdvisoryList]), data/DSA/list and data/DLA/list.
//
// Every parser streams its input: the tracker JSON is read one CVE object
// at a time, the text formats one line at a time. A malformed document
// gives a *feed.ParseError naming the file, the line or byte offset and the
// field.
//
// Fix attributes (patchcore.Fix.Attributes) written by this package:
//
//	scope          tracker: "remote" or "local", as the tracker states it
//	nodsa          tracker: the release's nodsa note, when present
//	nodsa_reason   tracker: why no DSA is planned ("ignored", "postponed")
//	urgency        debsecan: "low", "medium", "high" or "" (the flag word)
//	remote         debsecan: "yes", "no" or "unknown"
//	fix_available  debsecan: "yes" when the F flag is set for the suite
//	flags          debsecan: the four raw flag characters
//	note           DSA/DLA list: the <...> marker of a release line without a version
package debian
