/** Image bytes decoded from a push, with the content type sniffed from the bytes. */
export interface DecodedImage {
  bytes: Buffer;
  contentType: string;
}

/** What the index knows of a stored image. */
export interface StoredImageRef {
  sha256: string;
  contentType: string;
  byteSize: number;
}
