package device

import "time"

// EventAlarm is the Kind of an event raised by a device's Alarm notification.
const EventAlarm = "alarm"

// Event is something a device reported, such as an alarm (GB/T 28181-2016 A.2.5.2 Alarm).
type Event struct {
	ID       int64
	DeviceID int64
	// ChannelGBID is the GBID of the channel or alarm input the event is about; empty when it is
	// about the device itself.
	ChannelGBID string
	// Kind is EventAlarm so far.
	Kind string
	// Priority is the AlarmPriority: 1 (highest) to 4.
	Priority int
	// Method is the AlarmMethod: 1 phone, 2 device, 3 SMS, 4 GPS, 5 video, 6 device fault, 7 other.
	Method int
	// AlarmType refines Method (A.2.5.2 AlarmType), e.g. "2" for motion detection when Method is 5.
	AlarmType   string
	Description string
	// Longitude and Latitude are in degrees; 0 when the device does not say.
	Longitude float64
	Latitude  float64
	// Time is when the event happened, by the device's clock; stores use CreatedAt when it is zero.
	Time time.Time
	// CreatedAt is when the platform stored the event.
	CreatedAt time.Time
}

// EventFilter selects a page of events.
type EventFilter struct {
	// DeviceID restricts the list to one device; 0 means all devices.
	DeviceID int64
	// Kind restricts the list to one kind; empty means all kinds.
	Kind string
	// Since and Until bound Time: Since <= Time < Until. A zero value leaves that side open.
	Since time.Time
	Until time.Time
	// Offset is the number of events to skip.
	Offset int
	// Limit is the maximum number of events to return; 0 means no limit.
	Limit int
}
