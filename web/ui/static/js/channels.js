// The channels a viewer can pick, with their device's name and type.

import { api } from './api.js';

/**
 * isPlayable tells a video source from the nodes of a GB28181 catalog tree
 * (civil areas, business groups, virtual organisations), which have no stream.
 */
export function isPlayable(ch) {
  return !ch.kind || ch.kind === 'channel';
}

/** ptzSupport says whether a channel can be moved: 'yes', 'maybe' or 'no' (with why). */
export function ptzSupport(ch) {
  if (!ch) return { level: 'no', why: 'No channel selected.' };
  switch (ch.device_type) {
    case 'gb28181':
      // ptz_type 3 is a fixed camera; 0 means the catalog did not say.
      if (ch.ptz_type === 3) return { level: 'maybe', why: 'The catalog reports a fixed camera.' };
      return { level: 'yes' };
    case 'onvif':
      return ch.ptz ? { level: 'yes' } : { level: 'no', why: 'The camera reports no PTZ for this profile.' };
    default:
      return { level: 'no', why: 'RTSP cameras have no PTZ control; add the camera as ONVIF for PTZ.' };
  }
}

/**
 * loadChannels returns the playable channels, each with device_name and
 * device_type, sorted by device then channel name.
 */
export async function loadChannels() {
  const [devs, chans] = await Promise.all([api.devices(), api.channels()]);
  const byId = new Map((devs.items || []).map((d) => [d.id, d]));
  return (chans.items || [])
    .filter(isPlayable)
    .map((c) => {
      const d = byId.get(c.device_id);
      return { ...c, device_name: d ? d.name : `device ${c.device_id}`, device_type: d ? d.type : '', device_online: d ? d.online : undefined };
    })
    .sort((a, b) => a.device_name.localeCompare(b.device_name) || a.name.localeCompare(b.name) || a.id - b.id);
}

/** channelLabel is how a channel is named in pickers. */
export function channelLabel(ch) {
  return ch.device_name && ch.device_name !== ch.name ? `${ch.device_name} / ${ch.name}` : ch.name;
}

/** isOffline tells whether a channel's device is known to be unreachable. */
export function isOffline(ch) {
  return ch.status === 'OFF';
}
