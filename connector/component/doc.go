// Package component defines the small interfaces every pipeline part
// implements: the Start/Shutdown lifecycle, the Host a component runs in, and
// the batch hand-off from sources to the pipeline, which carries the source's
// checkpoint so outputs and checkpoint commit in one transaction.
package component
