package sip

import (
	"errors"
	"strconv"
)

// ErrDeviceID is returned by CheckDeviceID for an ID that is not 20 digits.
var ErrDeviceID = errors.New("device ID must be 20 digits")

// DeviceIDLen is the length of a GB/T 28181 ID (Appendix D): 8 digits of
// civil area, 2 industry, 3 type, 1 network, 6 serial.
const DeviceIDLen = 20

// DeviceType returns the type digits (positions 11–13) of an ID, or -1 when
// the ID is not 20 digits.
func DeviceType(id string) int {
	if CheckDeviceID(id) != nil {
		return -1
	}
	t, _ := strconv.Atoi(id[10:13])
	return t
}

// CheckDeviceID returns ErrDeviceID unless id is 20 ASCII digits.
func CheckDeviceID(id string) error {
	if len(id) != DeviceIDLen {
		return ErrDeviceID
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return ErrDeviceID
		}
	}
	return nil
}

// RegisteringType reports whether type digits t name something that
// registers with a platform (Appendix D): front-end devices 111–130 (DVR,
// encoder, NVR…), front-end peripherals 131–199 (camera, IPC, alarm I/O…),
// and 200, a lower platform's SIP server. Real devices get this wrong, so a
// false answer is worth a warning, not a refusal.
func RegisteringType(t int) bool {
	return (t >= 111 && t <= 199) || t == 200
}
