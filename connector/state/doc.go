// Package state is Castellan's embedded store: one bbolt file holding source
// checkpoints, detection and correlation snapshots, and (through
// sinks/delivery, which is handed the *bbolt.DB) the per-sink queues.
//
// Writes that must be atomic together — a batch's sink-queue entries, the
// source checkpoints that produced them, and the detection state after them —
// go through one Update call, i.e. one bbolt transaction.
package state
