package openenvgrpc

import (
	"crypto/rand"
	"fmt"
)

// NewRequestID is a fresh random UUID (version 4), the request_id of a
// session creation or reset: the same id on a retry returns the same
// session instead of making a second one (AIP-155).
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])  // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
