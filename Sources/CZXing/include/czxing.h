#ifndef VHC_CZXING_H
#define VHC_CZXING_H
/* A C interface to zxing-cpp (C++), QR codes only, so Swift can call it. */
#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    unsigned char *bytes; /* the raw payload, malloc'ed; free with vhc_zxing_free */
    int length;
    int x[4], y[4];       /* corners: top-left, top-right, bottom-right, bottom-left */
} vhc_zxing_symbol;

/* How grey becomes black and white: a threshold from the neighbourhood (zxing's default, good
   for uneven light) or one from the histogram (better when glare compresses local contrast). */
enum { VHC_ZXING_LOCAL_AVERAGE = 0, VHC_ZXING_GLOBAL_HISTOGRAM = 1 };

/* Reads up to `capacity` QR codes from an 8-bit grey image. Returns how many were written to
   `symbols`, or -1 on an internal error. Never throws across the C boundary. */
int vhc_zxing_read_qr(const unsigned char *pixels, int width, int height, int stride, int try_harder,
                      int binarizer, vhc_zxing_symbol *symbols, int capacity);

void vhc_zxing_free(vhc_zxing_symbol *symbols, int count);

#ifdef __cplusplus
}
#endif
#endif
