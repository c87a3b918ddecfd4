#ifndef VHC_CV4L2_H
#define VHC_CV4L2_H
/* Fixed-arity wrappers over libv4l2's variadic functions, and the V4L2 macros as constants:
   Swift can import neither variadic C functions nor function-like macros. */
#include <linux/videodev2.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>

int vhc_v4l2_open(const char *path, int flags);
int vhc_v4l2_close(int fd);
int vhc_v4l2_ioctl(int fd, unsigned long request, void *argument);
void *vhc_v4l2_mmap(void *start, size_t length, int protection, int flags, int fd, int64_t offset);
int vhc_v4l2_munmap(void *start, size_t length);

extern const unsigned long VHC_VIDIOC_QUERYCAP;
extern const unsigned long VHC_VIDIOC_ENUM_FMT;
extern const unsigned long VHC_VIDIOC_ENUM_FRAMESIZES;
extern const unsigned long VHC_VIDIOC_G_FMT;
extern const unsigned long VHC_VIDIOC_S_FMT;
extern const unsigned long VHC_VIDIOC_S_PARM;
extern const unsigned long VHC_VIDIOC_REQBUFS;
extern const unsigned long VHC_VIDIOC_QUERYBUF;
extern const unsigned long VHC_VIDIOC_QBUF;
extern const unsigned long VHC_VIDIOC_DQBUF;
extern const unsigned long VHC_VIDIOC_STREAMON;
extern const unsigned long VHC_VIDIOC_STREAMOFF;
extern const unsigned long VHC_VIDIOC_S_CTRL;
extern const unsigned long VHC_VIDIOC_QUERYCTRL;

extern const uint32_t VHC_V4L2_PIX_FMT_GREY;
extern const uint32_t VHC_V4L2_PIX_FMT_YUYV;
extern const uint32_t VHC_V4L2_PIX_FMT_MJPEG;

extern const uint32_t VHC_V4L2_CID_EXPOSURE_AUTO_PRIORITY;
extern const uint32_t VHC_V4L2_CID_EXPOSURE_AUTO;
extern const uint32_t VHC_V4L2_CID_EXPOSURE_ABSOLUTE;
extern const uint32_t VHC_V4L2_CID_FOCUS_AUTO;
extern const uint32_t VHC_V4L2_CID_FOCUS_ABSOLUTE;

/* eventfd, for the in-memory test device: a real descriptor that poll() can wait on. */
int vhc_eventfd_create(void);
int vhc_eventfd_signal(int fd);
void vhc_eventfd_drain(int fd);

#endif
