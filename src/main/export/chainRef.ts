// How the packet points at an audit_log entry: its seq (the chain file holds every entry from
// genesis), its type, time and actor, and the actor's name where the exporting cache may name them.
export interface ChainRef {
  seq: number;
  eventType: string;
  occurredAt: string;
  actor: string;
  actorName: string | null;
}
