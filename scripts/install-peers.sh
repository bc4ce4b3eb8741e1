#!/usr/bin/env bash
# install-peers.sh: installs the external programs ("peers") that the tests run
# against: dcmtk, dicom3tools, GDCM tools, pydicom's sample files, Orthanc,
# an S3-compatible server (VersityGW) and Azurite (Azure Blob).
#
# Fast and idempotent: a peer already present is not touched. Installs with
# apt-get when run as root. When a peer cannot be installed, it prints which
# tests will be skipped and how to install it, and exits 0; under CI=true it
# exits non-zero instead, because CI must never pass by skipping.
#
# Adding a peer: write check_<name> (exit 0 when present) and install_<name>
# (may assume root; use apt_install), then append <name> to PEERS.
set -euo pipefail

PEERS=(dcmtk dicom3tools gdcm pydicom orthanc versitygw azurite)

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
# Programs that are not Debian packages go under PEER_CACHE (the same for
# every clone), pinned to a version; tests find them there.
PEER_CACHE=${PACS_PEER_CACHE:-$HOME/.cache/pacs-peers}
VERSITYGW_VERSION=v1.8.0
AZURITE_VERSION=3.37.0

# VersityGW: a real S3 server (SigV4 checked), built with go install
# outside the project's module so its dependencies stay its own.
check_versitygw() { [[ -x $PEER_CACHE/bin/versitygw ]]; }
install_versitygw() {
	have go || return 1
	mkdir -p "$PEER_CACHE/bin"
	(cd / && GOFLAGS= GOBIN="$PEER_CACHE/bin" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION")
}
skipped_versitygw="S3 storage plugin tests against a real S3-compatible server"

# Azurite: Microsoft's Azure Storage emulator (Node.js).
check_azurite() { [[ -x $PEER_CACHE/azurite/node_modules/.bin/azurite-blob ]]; }
install_azurite() {
	have npm || apt_install npm || return 1
	mkdir -p "$PEER_CACHE/azurite"
	npm install --silent --no-audit --no-fund --prefix "$PEER_CACHE/azurite" "azurite@$AZURITE_VERSION" >/dev/null
}
skipped_azurite="Azure Blob storage plugin tests against Azurite"

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

# rootless PEER: the peer installs under PEER_CACHE, without root.
rootless() { [[ $1 == versitygw || $1 == azurite ]]; }

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
		echo "install-peers: missing ${missing[*]}; not root, so installing only those that need no root" >&2
	fi
	for p in "${missing[@]}"; do
		if { is_root || rootless "$p"; } && "install_$p" && "check_$p"; then
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
