// Where supabase-js keeps the session (access and refresh tokens): in this process's memory only.
// The main process has no localStorage, and tokens must never reach the renderer or the disk; a
// restarted workstation signs in again.
import type { SupportedStorage } from '@supabase/supabase-js';

export class MemorySessionStorage implements SupportedStorage {
  private readonly items = new Map<string, string>();

  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }

  removeItem(key: string): void {
    this.items.delete(key);
  }

  clear(): void {
    this.items.clear();
  }
}
