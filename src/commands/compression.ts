/** Which wire compressors this server negotiates in hello; the server layer registers what the wire layer can do. */
let compressors: string[] = ['zlib'];

export function supportedCompressors(): string[] {
  return compressors;
}

export function setSupportedCompressors(names: string[]): void {
  compressors = [...names];
}
