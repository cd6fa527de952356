// Errors of opening a cache, each worded for the person at the workstation.
import { UserFacingError } from '../userFacingError';

/** The key does not open the file: it was made with another key, or the file is not a cache. */
export class CacheKeyError extends UserFacingError {
  override name = 'CacheKeyError';
}

/** The file opens but belongs to another user or another backend. */
export class CacheOwnerError extends UserFacingError {
  override name = 'CacheOwnerError';
}

/** The file was written by a newer Countersign; it is left untouched. */
export class CacheTooNewError extends UserFacingError {
  override name = 'CacheTooNewError';
}
