/**
 * The part of libheif-js's embind API (`libheif-js/wasm-bundle`) that `heic.ts` calls; the
 * package ships no types for it. Its higher-level `HeifDecoder` is not used: it writes its errors
 * to the console.
 */
export interface LibHeif {
  readonly heif_error_code: { readonly heif_error_Ok: HeifEnum };
  readonly heif_colorspace: { readonly heif_colorspace_RGB: HeifEnum };
  readonly heif_chroma: {
    readonly heif_chroma_interleaved_RGB: HeifEnum;
    readonly heif_chroma_interleaved_RGBA: HeifEnum;
  };
  readonly heif_channel: { readonly heif_channel_interleaved: HeifEnum };
  heif_context_alloc(): HeifContext;
  heif_context_free(context: HeifContext): void;
  heif_context_read_from_memory(context: HeifContext, bytes: Uint8Array): HeifError;
  heif_js_context_get_primary_image_handle(context: HeifContext): HeifImageHandle | HeifError;
  heif_image_handle_get_width(handle: HeifImageHandle): number;
  heif_image_handle_get_height(handle: HeifImageHandle): number;
  heif_image_handle_has_alpha_channel(handle: HeifImageHandle): number;
  heif_image_handle_release(handle: HeifImageHandle): void;
  heif_js_decode_image2(
    handle: HeifImageHandle,
    colorspace: HeifEnum,
    chroma: HeifEnum,
  ): Promise<HeifDecoded | HeifError>;
  heif_image_release(image: HeifImage): void;
}

/** An embind enum value: compared by identity. */
export type HeifEnum = { readonly __brand: 'HeifEnum' };
export type HeifContext = { readonly __brand: 'HeifContext' };
export type HeifImageHandle = { readonly __brand: 'HeifImageHandle' };
export type HeifImage = { readonly __brand: 'HeifImage' };

export interface HeifError {
  readonly code: HeifEnum;
  readonly message: string;
}

export interface HeifDecoded {
  readonly image: HeifImage;
  /** Planes as views into the WebAssembly heap, valid until the image is released. */
  readonly channels: readonly {
    readonly id: HeifEnum;
    readonly width: number;
    readonly height: number;
    readonly stride: number;
    readonly data: Uint8Array;
  }[];
}
