// Package ptz encodes and decodes PTZCmd, the front-end control command a
// platform sends in a MANSCDP DeviceControl (GB/T 28181-2016 Annex A.3;
// Annex F.3 in the 2022 edition): eight bytes written as 16 hex digits.
//
// The standard numbers the bytes 1 to 8; this package counts from 0:
//
//	byte 0  A5H, the first byte of every command
//	byte 1  combination code 1: version in the high nibble, and in the low
//	        nibble the check (byte0>>4 + byte0&0xF + byte1>>4) % 16. With
//	        version 0, as every platform and device uses, byte 1 is 0FH.
//	byte 2  address, low 8 bits
//	byte 3  instruction (Command)
//	byte 4  data 1
//	byte 5  data 2
//	byte 6  combination code 2: data 3 in the high nibble (the zoom speed
//	        of a PTZ command), address high 4 bits in the low nibble
//	byte 7  checksum: (byte0 + ... + byte6) % 256
//
// GB/T 28181 addresses the target by the DeviceID of the MANSCDP body, so
// the address is unused; platforms send 1, as Encode does.
package ptz

import (
	"encoding/hex"
	"errors"
	"fmt"
)

const (
	// header is byte 0 of every command (A.3.1).
	header = 0xA5
	// version is the version nibble of byte 1 that platforms and devices
	// use (the standard's "1.0" is written as 0).
	version = 0
	// DefaultAddress is the address Encode writes.
	DefaultAddress = 1
)

// Errors returned by ParseFrame, Decode and Build.
var (
	// ErrFormat is returned for a command that is not 16 hex digits or
	// does not start with A5H.
	ErrFormat = errors.New("ptz: not a PTZCmd")
	// ErrChecksum is returned when byte 1's check nibble or byte 7 does not
	// match the other bytes.
	ErrChecksum = errors.New("ptz: checksum mismatch")
	// ErrCommand is returned for an unknown instruction, or a PTZ or FI
	// instruction with opposite directions at once.
	ErrCommand = errors.New("ptz: invalid instruction")
	// ErrRange is returned by Build for an operand out of range.
	ErrRange = errors.New("ptz: operand out of range")
)

// Frame is the eight bytes of a command (A.3.1), by field.
type Frame struct {
	// Address is the 12-bit address of bytes 2 and 6.
	Address uint16
	// Instruction is byte 3.
	Instruction Command
	// Data1 and Data2 are bytes 4 and 5.
	Data1, Data2 uint8
	// Data3 is the high nibble of byte 6, 0 to 15.
	Data3 uint8
}

// Bytes returns the eight bytes of f, with the version, checks and
// checksum.
func (f Frame) Bytes() [8]byte {
	var b [8]byte
	b[0] = header
	b[1] = version<<4 | nibbleCheck(version)
	b[2] = uint8(f.Address)
	b[3] = uint8(f.Instruction)
	b[4] = f.Data1
	b[5] = f.Data2
	b[6] = (f.Data3&0xF)<<4 | uint8(f.Address>>8)&0xF
	b[7] = checksum(b[:7])
	return b
}

// String returns f as 16 upper-case hex digits, the PTZCmd text.
func (f Frame) String() string {
	const digits = "0123456789ABCDEF"
	b := f.Bytes()
	var s [16]byte
	for i, c := range b {
		s[2*i] = digits[c>>4]
		s[2*i+1] = digits[c&0xF]
	}
	return string(s[:])
}

// nibbleCheck is the low nibble of byte 1 (A.3.1).
func nibbleCheck(ver uint8) uint8 {
	return (header>>4 + header&0xF + ver) % 16
}

func checksum(b []byte) uint8 {
	var sum uint8
	for _, c := range b {
		sum += c // wraps: the sum modulo 256
	}
	return sum
}

// ParseFrame reads a PTZCmd: 16 hex digits in either case, surrounding
// spaces ignored. It checks byte 0, the check nibble of byte 1 (any
// version) and the checksum, not the instruction.
func ParseFrame(s string) (Frame, error) {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	if len(s) != 16 {
		return Frame{}, fmt.Errorf("%w: %d characters", ErrFormat, len(s))
	}
	var b [8]byte
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return Frame{}, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if b[0] != header {
		return Frame{}, fmt.Errorf("%w: first byte %02X", ErrFormat, b[0])
	}
	if b[1]&0xF != nibbleCheck(b[1]>>4) {
		return Frame{}, fmt.Errorf("%w: byte 1 is %02X", ErrChecksum, b[1])
	}
	if sum := checksum(b[:7]); b[7] != sum {
		return Frame{}, fmt.Errorf("%w: byte 7 is %02X, want %02X", ErrChecksum, b[7], sum)
	}
	return Frame{
		Address:     uint16(b[2]) | uint16(b[6]&0xF)<<8,
		Instruction: Command(b[3]),
		Data1:       b[4],
		Data2:       b[5],
		Data3:       b[6] >> 4,
	}, nil
}
