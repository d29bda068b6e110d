const binary = { schema: { type: 'string', format: 'binary' } };

/** The 200 of an image endpoint (OpenAPI): the bytes as stored (errors are JSON like everywhere else). */
export const IMAGE_RESPONSE = {
  description: "The image bytes; Content-Type is the stored image's type. ETag is the sha256.",
  content: { 'image/jpeg': binary, 'image/png': binary },
};
