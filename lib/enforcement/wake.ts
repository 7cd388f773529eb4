import { EventEmitter } from "node:events";

// The in-process path from a committed decision to the delivery worker: the
// decision function calls wakeDelivery() right after commit, so delivery does
// not wait for NOTIFY (which the embedded database never delivers) or a poll.
const globalForWake = globalThis as unknown as { __tollgateOutboxWake?: EventEmitter };
const emitter = (globalForWake.__tollgateOutboxWake ??= new EventEmitter());
emitter.setMaxListeners(50);

export function wakeDelivery(): void {
  emitter.emit("wake");
}

export function onWake(listener: () => void): () => void {
  emitter.on("wake", listener);
  return () => emitter.off("wake", listener);
}
