#ifndef VHC_CZXING_H
#define VHC_CZXING_H
/* A C interface to zxing-cpp 3.1 (C++), QR codes only, so Swift can call it. */
#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    unsigned char *bytes; /* the raw payload, malloc'ed (empty when not read); free with vhc_zxing_free */
    int length;
    int read;             /* 1: decoded; 0: found (its corners are known) but not decoded */
    int x[4], y[4];       /* corners: top-left, top-right, bottom-right, bottom-left */
} vhc_zxing_symbol;

/* How grey becomes black and white: a threshold from the neighbourhood (zxing's default, good
   for uneven light), one from the histogram (better when glare compresses local contrast), or 127. */
enum { VHC_ZXING_LOCAL_AVERAGE = 0, VHC_ZXING_GLOBAL_HISTOGRAM = 1, VHC_ZXING_FIXED_THRESHOLD = 2 };

typedef struct {
    int binarizer;      /* VHC_ZXING_… */
    int try_harder;     /* more scan lines and finder-pattern candidates */
    int try_invert;     /* also light modules on dark (dark-mode wallets) */
    int try_downscale;  /* zxing's own reduced-resolution retries on large images */
    int return_unread;  /* also return codes found but not decoded (read == 0) */
} vhc_zxing_options;

/* Reads up to `capacity` QR codes from an 8-bit grey image. Returns how many were written to
   `symbols`, or -1 on an internal error. Never throws across the C boundary. */
int vhc_zxing_read_qr(const unsigned char *pixels, int width, int height, int stride,
                      const vhc_zxing_options *options, vhc_zxing_symbol *symbols, int capacity);

void vhc_zxing_free(vhc_zxing_symbol *symbols, int count);

#ifdef __cplusplus
}
#endif
#endif
