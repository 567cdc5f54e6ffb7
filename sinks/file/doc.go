// Package file is the file sink: records as JSON lines, rotated by size.
package file
