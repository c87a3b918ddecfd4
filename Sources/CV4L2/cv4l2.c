#include "cv4l2.h"
#include <libv4l2.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

int vhc_v4l2_open(const char *path, int flags) { return v4l2_open(path, flags); }
int vhc_v4l2_close(int fd) { return v4l2_close(fd); }
int vhc_v4l2_ioctl(int fd, unsigned long request, void *argument) { return v4l2_ioctl(fd, request, argument); }
void *vhc_v4l2_mmap(void *start, size_t length, int protection, int flags, int fd, int64_t offset) {
    return v4l2_mmap(start, length, protection, flags, fd, offset);
}
int vhc_v4l2_munmap(void *start, size_t length) { return v4l2_munmap(start, length); }

const unsigned long VHC_VIDIOC_QUERYCAP = VIDIOC_QUERYCAP;
const unsigned long VHC_VIDIOC_ENUM_FMT = VIDIOC_ENUM_FMT;
const unsigned long VHC_VIDIOC_ENUM_FRAMESIZES = VIDIOC_ENUM_FRAMESIZES;
const unsigned long VHC_VIDIOC_G_FMT = VIDIOC_G_FMT;
const unsigned long VHC_VIDIOC_S_FMT = VIDIOC_S_FMT;
const unsigned long VHC_VIDIOC_S_PARM = VIDIOC_S_PARM;
const unsigned long VHC_VIDIOC_REQBUFS = VIDIOC_REQBUFS;
const unsigned long VHC_VIDIOC_QUERYBUF = VIDIOC_QUERYBUF;
const unsigned long VHC_VIDIOC_QBUF = VIDIOC_QBUF;
const unsigned long VHC_VIDIOC_DQBUF = VIDIOC_DQBUF;
const unsigned long VHC_VIDIOC_STREAMON = VIDIOC_STREAMON;
const unsigned long VHC_VIDIOC_STREAMOFF = VIDIOC_STREAMOFF;
const unsigned long VHC_VIDIOC_S_CTRL = VIDIOC_S_CTRL;
const unsigned long VHC_VIDIOC_QUERYCTRL = VIDIOC_QUERYCTRL;

const uint32_t VHC_V4L2_PIX_FMT_GREY = V4L2_PIX_FMT_GREY;
const uint32_t VHC_V4L2_PIX_FMT_YUYV = V4L2_PIX_FMT_YUYV;
const uint32_t VHC_V4L2_PIX_FMT_MJPEG = V4L2_PIX_FMT_MJPEG;

const uint32_t VHC_V4L2_CID_EXPOSURE_AUTO_PRIORITY = V4L2_CID_EXPOSURE_AUTO_PRIORITY;
const uint32_t VHC_V4L2_CID_EXPOSURE_AUTO = V4L2_CID_EXPOSURE_AUTO;
const uint32_t VHC_V4L2_CID_EXPOSURE_ABSOLUTE = V4L2_CID_EXPOSURE_ABSOLUTE;
const uint32_t VHC_V4L2_CID_FOCUS_AUTO = V4L2_CID_FOCUS_AUTO;
const uint32_t VHC_V4L2_CID_FOCUS_ABSOLUTE = V4L2_CID_FOCUS_ABSOLUTE;

int vhc_eventfd_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
int vhc_eventfd_signal(int fd) {
    uint64_t one = 1;
    return write(fd, &one, sizeof one) == sizeof one ? 0 : -1;
}
void vhc_eventfd_drain(int fd) {
    uint64_t count;
    (void)read(fd, &count, sizeof count);
}
