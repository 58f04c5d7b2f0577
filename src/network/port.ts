// The seam between dom0's virtual switch and what plugs into it: a vif's netback, a VXLAN link
// to another host, the gateway, a TAP relay. A device hands frames in through its SwitchPort
// and takes frames out through deliver(); frames are views valid only during the call (the
// receiver copies what it keeps), so a frame crosses the switch without an extra copy. A
// sender that hands in a batch of frames (netback's tx, one ring pass) may keep them valid
// until its pass ends (FramePass), so that a receiver copies the batch at once. A sender that
// can wait (netback's tx) passes a FrameSender with unicast frames: a receiver short of room
// stops it (back-pressure) rather than dropping what follows.
import type { NetFrameInfo } from '../abi/netif.js';
import type { GrantCopyBatch } from '../hypervisor/grant.js';

/** What a device takes as is; the switch completes checksums and splits GSO frames for one that lacks them. */
export interface PortFeatures {
  /** Frames with csumBlank may be delivered (the receiver is on this host and trusts it). */
  readonly csumOffload: boolean;
  /** GSO super-frames may be delivered whole. */
  readonly gsoTcpv4: boolean;
  readonly gsoTcpv6: boolean;
}

/** The device side of a port. */
export interface PortDevice {
  /** The port's name: vifDOMID.DEVID for a vif (or its vifname=), vxlanN, ... */
  readonly name: string;
  readonly features: PortFeatures;
  /**
   * A frame out of the switch into the device. Returns false if the device dropped it (no
   * room). With a `pass`, the frame's view stays valid until the pass ends: the device may
   * take it now and copy it then (see FramePass).
   */
  deliver(frame: Uint8Array, info: NetFrameInfo, pass?: FramePass, sender?: FrameSender): boolean;
  /**
   * A frame whose tail is still in its sender's grants (see FrameTail), for a device that can
   * copy grant to grant (netback's rx); without it the switch fills the frame and calls deliver.
   */
  deliverTail?(frame: Uint8Array, info: NetFrameInfo, tail: FrameTail, sender?: FrameSender): boolean;
}

/**
 * The part of a frame that a sender (netback's tx) left in the sending guest's granted pages,
 * pinned for the duration of the input() call, as Linux's netback leaves a packet's frags
 * mapped: the frame's view holds its first `head` bytes (all the switch reads); the rest is
 * copied once, straight into the receiver's buffers, or into the view by fill() for a receiver
 * that needs the bytes (a capture, a flood, VXLAN, the gateway, offload completion).
 */
export interface FrameTail {
  /** Bytes at the start of the view that are the frame's; [head, length) are not there until fill(). */
  readonly head: number;
  /** The sending domain. */
  readonly domid: number;
  /**
   * Its grants holding [head, length), as the batch the sender holds them pinned by: op k (of
   * pins.count) is the k-th segment, pins.len[k] bytes at pins.offset[k] of its page. A receiver
   * copies from these pins, not pinning the grants again.
   */
  readonly pins: GrantCopyBatch;
  /** Copy the tail into the view (once); false if it could not be had (the frame is to be dropped). */
  fill(): boolean;
}

/**
 * A sender's pass over its ring (netback's tx: the frames of one pass, copied out of the guest
 * by one grant-copy batch, as xenvif_tx_action batches them): the views of the frames it hands
 * in during the pass stay valid until the pass ends. A receiver that takes a frame without
 * copying it yet (netback's rx, to copy the frames of the pass into its frontend's buffers as
 * one batch) asks to be called back before the end; after that the memory is the sender's again.
 * The switch passes it on only with a frame it hands over as the sender gave it.
 */
export interface FramePass {
  /** The memory every frame handed in with the pass is a view of. */
  readonly memory: Uint8Array;
  /** Call `finish` before the pass ends (in the order asked, at most once per call). */
  defer(finish: () => void): void;
}

/**
 * Back-pressure, as a stopped queue is in Linux: the sender of a unicast frame (netback's tx,
 * for its guest's ring). A receiver that takes the frame but has no room in its frontend's
 * buffers for it (it holds it) pauses the sender, which then takes nothing more from its guest
 * (the requests stay on the guest's ring, which fills, and the guest's writes wait); the
 * receiver resumes it once what it holds has gone out, or once it has waited too long (a
 * receiver that posts no buffers must not wedge its senders: see RxQueueLimits.stopTimeoutMs).
 * The switch passes one with a frame for one port only: a flood is never held back by a slow port.
 */
export interface FrameSender {
  /** Take no more frames from the guest until resume() (idempotent). */
  pause(): void;
  /** Go on (idempotent; the sender goes on in a later microtask, not inside the call). */
  resume(): void;
}

/**
 * XenAPI's VIF locking modes (VIF.locking_mode, VIF.ipv4_allowed and ipv6_allowed), enforced
 * on what the port's device sends (see locking.ts): `locked`: from its MAC, and IPv4 (with ARP)
 * and IPv6 only from the allowed addresses, nothing else; `unlocked`: anything; `disabled`:
 * nothing, in or out.
 */
export interface PortLocking {
  readonly mode: 'locked' | 'unlocked' | 'disabled';
  readonly ipv4Allowed?: readonly string[];
  readonly ipv6Allowed?: readonly string[];
}

/** How a device is plugged in, from the vif spec (xl-network-configuration(5)). */
export interface PortOptions {
  /** NAME, NAME.TAG (access VLAN TAG) or NAME.TAG:TRUNK1:TRUNK2 as vif-openvswitch spells it; the bridge is created on first use. */
  readonly bridge: string;
  /** The vif's MAC: frames from another source MAC are dropped unless macSpoof is set (or the locking says so). */
  readonly mac?: string;
  /** Without a `locking`: any source MAC may send. */
  readonly macSpoof?: boolean;
  /** The vif's locking mode; without one, the MAC alone is checked (XenAPI's network_default here). */
  readonly locking?: PortLocking;
}

/** The switch side of a port. */
export interface SwitchPort {
  readonly name: string;
  /**
   * A frame from the device into the switch (a guest's transmit); a `tail` says part of it is
   * still in grants; a `pass` that the frame's view lives until the sender's pass ends; a
   * `sender` that a receiver short of room may pause it (back-pressure).
   */
  input(frame: Uint8Array, info: NetFrameInfo, tail?: FrameTail, pass?: FramePass, sender?: FrameSender): void;
  /** Take the port out of its bridge; frames in flight to it are dropped. */
  unplug(): void;
  /** Change the locking mode of a plugged port at once (VIF.set_locking_mode on a running VIF); undefined: the default. EINVAL if malformed. */
  setLocking(locking: PortLocking | undefined): void;
}

/** What netback and the toolstack need of dom0's (or a driver domain's) switch. */
export interface VirtualSwitch {
  plug(device: PortDevice, opts: PortOptions): SwitchPort;
}
