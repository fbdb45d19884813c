/*
 * Copyright 2025 Skylark contributors
 *
 * A null MQTT relay: the 1.0 of compare.sh's QoS 0 tables. It accepts MQTT connections (3.1.1 and 5), answers
 * CONNECT with CONNACK (accepted), SUBSCRIBE with SUBACK (the requested QoS granted), PINGREQ with PINGRESP, and
 * forwards every QoS 0 PUBLISH, byte for byte, to every connection that has subscribed to anything - no topic
 * matching, no sessions, no queues beyond one output buffer per subscriber. For the scenarios compare.sh runs it in
 * (fan-in to one subscriber, fan-out to N subscribers of one topic) that is exactly what a broker must deliver, so it
 * measures what the kernel and loopback alone allow. QoS 1/2 PUBLISH packets are dropped: not a broker.
 *
 * One thread, epoll, level-triggered. Runs of consecutive PUBLISH packets in one read are copied to each subscriber
 * with one memcpy and written with one write(). Back pressure: when a subscriber's buffer holds more than
 * HARD_BYTES, the relay waits (poll) until that subscriber has taken some, so publishers slow down with it, as
 * TCP would make them.
 *
 *   cc -O2 -o null-relay null-relay.c && ./null-relay <port>      (binds 127.0.0.1)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_BYTES (256 * 1024)
#define HARD_BYTES (4 * 1024 * 1024)
#define MAX_EVENTS 256

typedef struct conn
{
    int fd;
    int version;            /* protocol level of CONNECT: 4 = 3.1.1, 5 = 5.0 */
    int sub_index;          /* index in subs, or -1 */
    int want_out;           /* EPOLLOUT registered */
    size_t in_len;
    unsigned char *in;
    unsigned char *out;
    size_t out_start, out_end, out_cap;
} conn;

static int epfd;
static conn **subs;
static int sub_count, sub_cap;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void set_events(conn *c, int out)
{
    if (c->want_out == out)
    {
        return;
    }
    struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

static void close_conn(conn *c)
{
    if (c->sub_index >= 0)
    {
        subs[c->sub_index] = subs[--sub_count];
        subs[c->sub_index]->sub_index = c->sub_index;
        c->sub_index = -1;
    }
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1; /* freed at the end of the event batch (events may still point at it) */
}

/* Write what c has buffered; returns -1 when the connection failed. */
static int flush_out(conn *c)
{
    while (c->out_end > c->out_start)
    {
        ssize_t n = write(c->fd, c->out + c->out_start, c->out_end - c->out_start);
        if (n > 0)
        {
            c->out_start += (size_t)n;
        }
        else if (n < 0 && errno == EINTR)
        {
            continue;
        }
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
            break;
        }
        else
        {
            return -1;
        }
    }
    if (c->out_start == c->out_end)
    {
        c->out_start = c->out_end = 0;
    }
    set_events(c, c->out_end > c->out_start);
    return 0;
}

/* Append bytes to c's output; waits for the peer while more than HARD_BYTES are pending. -1: connection failed. */
static int append_out(conn *c, const unsigned char *p, size_t n)
{
    while (c->out_end - c->out_start + n > HARD_BYTES && c->out_end > c->out_start)
    {
        if (flush_out(c) < 0)
        {
            return -1;
        }
        if (c->out_end - c->out_start + n > HARD_BYTES)
        {
            struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
            if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
            {
                return -1;
            }
        }
    }
    if (c->out_end + n > c->out_cap && c->out_start > 0)
    {
        memmove(c->out, c->out + c->out_start, c->out_end - c->out_start);
        c->out_end -= c->out_start;
        c->out_start = 0;
    }
    if (c->out_end + n > c->out_cap)
    {
        size_t cap = c->out_cap ? c->out_cap : 64 * 1024;
        while (cap < c->out_end + n)
        {
            cap *= 2;
        }
        unsigned char *grown = realloc(c->out, cap);
        if (!grown)
        {
            return -1;
        }
        c->out = grown;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_end, p, n);
    c->out_end += n;
    return 0;
}

static int reply(conn *c, const unsigned char *p, size_t n)
{
    return append_out(c, p, n) < 0 ? -1 : flush_out(c);
}

/* Forward a run of QoS 0 PUBLISH packets to every subscriber (not to the sender). */
static void forward(conn *from, const unsigned char *p, size_t n)
{
    for (int i = 0; i < sub_count; i++)
    {
        conn *s = subs[i];
        if (s == from)
        {
            continue;
        }
        if (append_out(s, p, n) < 0 || flush_out(s) < 0)
        {
            close_conn(s);
            i--; /* the last subscriber moved into slot i */
        }
    }
}

/* Variable byte integer at p (at most 4 bytes within avail); returns the bytes used, 0 if incomplete, -1 if bad. */
static int varint(const unsigned char *p, size_t avail, uint32_t *value)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
    {
        if ((size_t)i >= avail)
        {
            return 0;
        }
        v |= (uint32_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80))
        {
            *value = v;
            return i + 1;
        }
    }
    return -1;
}

static int on_subscribe(conn *c, const unsigned char *body, uint32_t len)
{
    if (len < 2)
    {
        return -1;
    }
    unsigned char ack[4 + 1 + 2 + 1 + 256];
    size_t pos = 0, granted = 0;
    unsigned char codes[256];
    uint32_t i = 2;
    if (c->version == 5)
    {
        uint32_t props;
        int used = varint(body + i, len - i, &props);
        if (used <= 0)
        {
            return -1;
        }
        i += (uint32_t)used + props;
    }
    while (i + 2 <= len && granted < sizeof(codes))
    {
        uint32_t topic = (uint32_t)body[i] << 8 | body[i + 1];
        i += 2 + topic;
        if (i >= len)
        {
            return -1;
        }
        codes[granted++] = body[i++] & 3;
    }
    if (granted == 0)
    {
        return -1;
    }
    uint32_t remaining = 2 + (c->version == 5 ? 1 : 0) + (uint32_t)granted;
    ack[pos++] = 0x90;
    do
    {
        unsigned char b = remaining & 0x7f;
        remaining >>= 7;
        ack[pos++] = remaining ? b | 0x80 : b;
    }
    while (remaining);
    ack[pos++] = body[0];
    ack[pos++] = body[1];
    if (c->version == 5)
    {
        ack[pos++] = 0;
    }
    memcpy(ack + pos, codes, granted);
    pos += granted;
    if (c->sub_index < 0)
    {
        if (sub_count == sub_cap)
        {
            sub_cap = sub_cap ? sub_cap * 2 : 64;
            subs = realloc(subs, sizeof(conn *) * (size_t)sub_cap);
            if (!subs)
            {
                die("realloc");
            }
        }
        c->sub_index = sub_count;
        subs[sub_count++] = c;
    }
    return reply(c, ack, pos);
}

/* Parse every complete packet in c->in; returns -1 when the connection is to be closed. */
static int on_input(conn *c)
{
    size_t pos = 0, run_start = 0, run_end = 0;
    int rc = 0;
    while (pos < c->in_len)
    {
        uint32_t len;
        int used = varint(c->in + pos + 1, c->in_len - pos - 1, &len);
        if (used < 0)
        {
            rc = -1;
            break;
        }
        if (used == 0 || c->in_len - pos < 1 + (size_t)used + len)
        {
            break;
        }
        const unsigned char type = c->in[pos] >> 4;
        const unsigned char *body = c->in + pos + 1 + used;
        const size_t end = pos + 1 + (size_t)used + len;
        if (type == 3 && ((c->in[pos] >> 1) & 3) == 0)
        {
            if (run_end != pos)
            {
                if (run_end > run_start)
                {
                    forward(c, c->in + run_start, run_end - run_start);
                }
                run_start = pos;
            }
            run_end = end;
            pos = end;
            continue;
        }
        if (run_end > run_start)
        {
            forward(c, c->in + run_start, run_end - run_start);
            run_start = run_end = 0;
        }
        switch (type)
        {
            case 1: /* CONNECT: protocol name (2 + 4), level */
            {
                c->version = len >= 7 ? body[6] : 4;
                static const unsigned char ack3[] = { 0x20, 0x02, 0x00, 0x00 };
                static const unsigned char ack5[] = { 0x20, 0x03, 0x00, 0x00, 0x00 };
                rc = c->version == 5 ? reply(c, ack5, sizeof(ack5)) : reply(c, ack3, sizeof(ack3));
                break;
            }
            case 8:
                rc = on_subscribe(c, body, len);
                break;
            case 12:
            {
                static const unsigned char pong[] = { 0xd0, 0x00 };
                rc = reply(c, pong, sizeof(pong));
                break;
            }
            case 14:
                rc = -1;
                break;
            default: /* QoS 1/2 PUBLISH, acks, UNSUBSCRIBE, AUTH: not a broker, ignored */
                break;
        }
        pos = end;
        if (rc < 0)
        {
            break;
        }
    }
    if (rc == 0 && run_end > run_start)
    {
        forward(c, c->in + run_start, run_end - run_start);
    }
    if (c->fd < 0)
    {
        return -1;
    }
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2)
    {
        fprintf(stderr, "usage: %s <port>\n", argv[0]);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    {
        die("bind");
    }
    if (listen(lfd, 4096) < 0)
    {
        die("listen");
    }
    epfd = epoll_create1(0);
    struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
    printf("null relay listening on 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    conn *closed[MAX_EVENTS];
    for (;;)
    {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            die("epoll_wait");
        }
        int closed_count = 0;
        for (int i = 0; i < n; i++)
        {
            conn *c = events[i].data.ptr;
            if (!c)
            {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
                {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    conn *nc = calloc(1, sizeof(conn));
                    nc->fd = fd;
                    nc->version = 4;
                    nc->sub_index = -1;
                    nc->in = malloc(IN_BYTES);
                    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = nc };
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            if (c->fd < 0)
            {
                continue;
            }
            int failed = 0;
            if (events[i].events & EPOLLOUT)
            {
                failed = flush_out(c) < 0;
            }
            if (!failed && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            {
                ssize_t r = read(c->fd, c->in + c->in_len, IN_BYTES - c->in_len);
                if (r > 0)
                {
                    c->in_len += (size_t)r;
                    failed = on_input(c) < 0 || c->in_len == IN_BYTES; /* a packet larger than the buffer */
                }
                else if (r == 0 || (errno != EAGAIN && errno != EINTR))
                {
                    failed = 1;
                }
            }
            if (failed || c->fd < 0)
            {
                if (c->fd >= 0)
                {
                    close_conn(c);
                }
                closed[closed_count++] = c;
            }
        }
        /* free after the batch: a later event of this batch may name a connection closed earlier in it */
        for (int i = 0; i < closed_count; i++)
        {
            free(closed[i]->in);
            free(closed[i]->out);
            free(closed[i]);
        }
    }
}
