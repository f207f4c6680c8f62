// Package version is a stand-in for github.com/get-eventually/go-eventually/version
// at v0.4.2: stream versions and the optimistic-concurrency checks.
package version

import "fmt"

// Version is the position of an event in its stream, counted from 1; a
// stream's version is its length.
type Version uint32

// Selector picks the part of a stream to read.
type Selector struct {
	From Version
}

// SelectFromBeginning reads a whole stream.
var SelectFromBeginning = Selector{From: 0}

// Check is an expectation about a stream's version when appending.
type Check interface {
	isVersionCheck()
}

// CheckAny expects nothing.
type CheckAny struct{}

func (CheckAny) isVersionCheck() {}

// Any is the CheckAny value.
var Any = CheckAny{}

// CheckExact expects the stream to be at exactly this version.
type CheckExact Version

func (CheckExact) isVersionCheck() {}

// ConflictError reports a failed CheckExact.
type ConflictError struct {
	Expected Version
	Actual   Version
}

func (e ConflictError) Error() string {
	return fmt.Sprintf("version conflict: stream expected at %d, found at %d", e.Expected, e.Actual)
}
