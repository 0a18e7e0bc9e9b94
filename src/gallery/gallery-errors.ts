import { AppError } from '../core/app-error.js';

/** DUPLICATE_ENTRY that also carries the id of the entry already enrolled, for the response. */
export class DuplicateEntryError extends AppError {
  constructor(
    readonly existingEntryId: string,
    gallery: string,
    label: string,
  ) {
    super(
      'DUPLICATE_ENTRY',
      `This crop of this image is already enrolled in gallery "${gallery}" under label "${label}" as entry ${existingEntryId}.`,
    );
  }
}
