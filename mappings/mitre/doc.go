// Package mitre is the MITRE ATT&CK Enterprise catalog Castellan maps its
// detections onto: the fourteen tactics in kill-chain order and the
// techniques identity threat detection refers to, with their exact names.
//
// The catalog is data (attack.yaml, embedded); it is parsed once on first
// use and is read-only afterwards, so every function is safe for concurrent
// use.
package mitre
