/**
 * A multipart/form-data body built by hand, byte for byte: for load generators that send the
 * same body many times (encoded once) and for tests that control every byte.
 */
export function multipartBody(
  fields: Record<string, string>,
  files: Record<string, { data: Buffer; filename?: string; type?: string }> = {},
): { payload: Buffer; headers: { 'content-type': string } } {
  const boundary = '----spotter' + Math.random().toString(16).slice(2);
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const [name, file] of Object.entries(files)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${file.filename ?? 'image'}"\r\nContent-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`));
    parts.push(file.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
