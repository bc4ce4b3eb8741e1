#!/usr/bin/env bash
# install-peers.sh: installs the external programs ("peers") that the tests run
# against: dcmtk, dicom3tools, GDCM tools, pydicom's sample files and Orthanc.
#
# Fast and idempotent: a peer already present is not touched. Installs with
# apt-get when run as root. When a peer cannot be installed, it prints which
# tests will be skipped and how to install it, and exits 0; under CI=true it
# exits non-zero instead, because CI must never pass by skipping.
#
# Adding a peer: write check_<name> (exit 0 when present) and install_<name>
# (may assume root; use apt_install), then append <name> to PEERS.
set -euo pipefail

PEERS=(dcmtk dicom3tools gdcm pydicom orthanc)

PYDICOM_DATA=/usr/lib/python3/dist-packages/pydicom/data/test_files

# --- per-peer checks, installers and what is lost without them -------------

check_dcmtk() { have dcmdump && have storescu && have dcmconv; }
install_dcmtk() { apt_install dcmtk; }
skipped_dcmtk="tests comparing with dcmtk (dcmdump, dcmconv, storescu, storescp, findscu, ...)"

check_dicom3tools() { have dciodvfy; }
install_dicom3tools() { apt_install dicom3tools; }
skipped_dicom3tools="IOD validation tests (dciodvfy)"

check_gdcm() { have gdcmconv; }
install_gdcm() { apt_install libgdcm-tools; }
skipped_gdcm="tests comparing with GDCM (gdcmconv, JPEG 2000 fixtures)"

check_pydicom() { [[ -d $PYDICOM_DATA ]]; }
install_pydicom() { apt_install python3-pydicom; }
skipped_pydicom="the fallback test corpus (pydicom sample files) and fixture generation in bench/"

# Orthanc: the tests start their own instance on loopback with their own
# configuration; the packaged service must not run (it would hold port 4242
# and a database of its own).
check_orthanc() { have Orthanc; }
install_orthanc() {
	apt_install orthanc || return 1
	if have systemctl; then systemctl disable --now orthanc >/dev/null 2>&1 || true; fi
	if have service; then service orthanc stop >/dev/null 2>&1 || true; fi
}
skipped_orthanc="interoperability tests and benchmarks against Orthanc (C-MOVE to and from it, C-STORE into it)"

# --- helpers ----------------------------------------------------------------

have() { command -v "$1" >/dev/null 2>&1; }

APT_UPDATED=0
apt_install() {
	have apt-get || return 1
	export DEBIAN_FRONTEND=noninteractive
	if [[ $APT_UPDATED == 0 ]]; then
		apt-get -o DPkg::Lock::Timeout=900 update -qq || return 1
		APT_UPDATED=1
	fi
	apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "$@" || return 1
}

is_root() { [[ $(id -u) == 0 ]]; }

banner() {
	local line='!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
	{
		echo "$line"
		echo "!!! SKIP: some test peers are missing and could not be installed"
		for p in "$@"; do
			local var="skipped_$p"
			echo "!!!   $p: ${!var} will be SKIPPED"
		done
		echo "!!! Install them with (as root, Debian 12):"
		echo "!!!   sudo scripts/install-peers.sh"
		echo "!!! or: sudo apt-get install dcmtk dicom3tools libgdcm-tools python3-pydicom orthanc"
		echo "$line"
	} >&2
}

# --- main -------------------------------------------------------------------

main() {
	local missing=() failed=() p
	for p in "${PEERS[@]}"; do
		"check_$p" || missing+=("$p")
	done
	if [[ ${#missing[@]} == 0 ]]; then
		return 0
	fi
	if is_root; then
		echo "install-peers: installing ${missing[*]}" >&2
	else
		echo "install-peers: missing ${missing[*]}; not root, so not installing" >&2
	fi
	for p in "${missing[@]}"; do
		if is_root && "install_$p" && "check_$p"; then
			continue
		fi
		failed+=("$p")
	done
	if [[ ${#failed[@]} == 0 ]]; then
		return 0
	fi
	if [[ ${CI:-} == true ]]; then
		echo "install-peers: FAILED to install ${failed[*]} under CI=true$(is_root || echo ' (not root)')" >&2
		return 1
	fi
	banner "${failed[@]}"
	return 0
}

main "$@"
