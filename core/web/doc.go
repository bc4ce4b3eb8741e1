// Package web is the archive's HTTP side. For now it serves the probes an
// orchestrator or a load balancer asks:
//
//   - /health and /live: liveness. 200 with {"status":"ok","version":...,
//     "uptime_seconds":...} as long as the process answers HTTP at all.
//   - /ready: readiness. 200 when every registered Check passes, else 503;
//     the JSON body names each check and the error of each failing one.
//
// Checks are named functions registered on a Health (AddCheck), so that
// components started later (plugins, storage tiers) add theirs and /ready
// stays false while one of them is down. Serve runs an http.Server with the
// package's timeouts until its context is done, then shuts it down
// gracefully.
package web
