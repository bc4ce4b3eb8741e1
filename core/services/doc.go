// Package services holds the archive's DIMSE service class providers:
// Verification, Storage (C-STORE into the archive), and Query/Retrieve
// (C-FIND over the index, C-MOVE and C-GET from storage), for the Patient
// Root and Study Root information models.
//
// Register installs them on a dimse.Mux and declares what they accept in a
// ul.Policy, so that negotiation and dispatch always agree: a SOP class is
// accepted at association time only when a handler serves it.
package services
