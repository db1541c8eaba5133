package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ghettovoice/gosip/sip"
)

// Subscription is a subscription dialog the platform holds with a device
// (RFC 6665; GB/T 28181-2016 §9.11: catalog, alarm and mobile position
// subscriptions). Set DeviceID and Event and pass it to Subscribe again and
// again: the first call creates the dialog, the next ones refresh it in the
// dialog, and expires 0 ends it. The device's NOTIFYs reach the Handler like
// MESSAGEs, with Message.Event set. A Subscription is not safe for
// concurrent use.
type Subscription struct {
	// DeviceID is the device subscribed to.
	DeviceID string
	// Event is the Event header, e.g. "Catalog;id=42". It must not change
	// while the dialog lasts: a refresh names the same event (RFC 6665
	// §4.1.2.1).
	Event string

	dlg dialogIDs // zero while no dialog exists
}

// Active reports whether the dialog exists (a Subscribe succeeded and no
// unsubscribe or failure ended it).
func (sub *Subscription) Active() bool { return sub.dlg.callID != "" }

// Subscribe sends a SUBSCRIBE with body (a MANSCDP query, already in the
// device's charset) and Expires: expires, and returns the lifetime the
// device granted (its Expires header, or expires when it sent none).
// expires is sent in whole seconds, rounded up. With
// an active dialog the SUBSCRIBE is a refresh in it; a device that
// forgot the dialog (481, e.g. after a reboot) is subscribed afresh. With
// expires 0 it unsubscribes and the dialog ends whatever the answer.
//
// Errors are those of SendMessage. A failed first SUBSCRIBE leaves no
// dialog, so the next call starts a new one.
func (s *Server) Subscribe(ctx context.Context, sub *Subscription, expires time.Duration, body []byte) (time.Duration, error) {
	// Expires is in whole seconds: round up, so that a short lifetime does
	// not become 0, which would unsubscribe.
	expires = (expires + time.Second - 1) / time.Second * time.Second
	granted, err := s.subscribe(ctx, sub, expires, body)
	var re *ResponseError
	if err != nil && expires > 0 && sub.Active() && errors.As(err, &re) && re.Code == 481 {
		sub.dlg = dialogIDs{}
		granted, err = s.subscribe(ctx, sub, expires, body)
	}
	return granted, err
}

func (s *Server) subscribe(ctx context.Context, sub *Subscription, expires time.Duration, body []byte) (time.Duration, error) {
	reg, err := s.route(sub.DeviceID)
	if err != nil {
		sub.dlg = dialogIDs{}
		return 0, err
	}
	fresh := !sub.Active()
	if fresh {
		sub.dlg = dialogIDs{callID: token(12), fromTag: token(4), cseq: s.cseq.Add(1)}
	} else {
		sub.dlg.cseq++
	}
	dlg := sub.dlg
	req := s.newRequest(sip.SUBSCRIBE, reg, ContentTypeMANSCDP, body, &dlg,
		&sip.GenericHeader{HeaderName: "Event", Contents: sub.Event}, expiresHeader(expires))
	res, err := s.do(ctx, req)
	if expires == 0 || (fresh && (err != nil || !res.IsSuccess())) {
		sub.dlg = dialogIDs{}
	}
	if err != nil {
		return 0, fmt.Errorf("SUBSCRIBE to %s: %w", sub.DeviceID, err)
	}
	if !res.IsSuccess() {
		return 0, fmt.Errorf("SUBSCRIBE to %s: %w", sub.DeviceID, &ResponseError{Code: int(res.StatusCode()), Reason: res.Reason()})
	}
	if expires > 0 && sub.dlg.toTag == "" {
		if to, ok := res.To(); ok && to.Params != nil {
			if tag, ok := to.Params.Get("tag"); ok && tag != nil {
				sub.dlg.toTag = tag.String()
			}
		}
	}
	granted := expires
	if v, err := strconv.Atoi(headerValue(res, "Expires")); err == nil && v >= 0 {
		granted = time.Duration(v) * time.Second
	}
	return granted, nil
}
