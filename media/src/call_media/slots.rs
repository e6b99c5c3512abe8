//! A fixed ring of reusable buffers for outputs that wait to be drained: each slot keeps its capacity, so
//! filling one allocates nothing.

#[derive(Debug)]
pub(crate) struct SlotRing<T, M> {
    slots: Vec<(Vec<T>, M)>,
    head: usize,
    len: usize,
}

impl<T, M: Default> SlotRing<T, M> {
    pub(crate) fn new(count: usize, slot_capacity: usize) -> Self {
        Self {
            slots: (0..count)
                .map(|_| (Vec::with_capacity(slot_capacity), M::default()))
                .collect(),
            head: 0,
            len: 0,
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == self.slots.len()
    }

    /// The next free slot, emptied, or `None` when all are taken.
    pub(crate) fn push(&mut self) -> Option<(&mut Vec<T>, &mut M)> {
        if self.is_full() {
            return None;
        }
        let index = (self.head + self.len) % self.slots.len();
        self.len += 1;
        let (buf, meta) = &mut self.slots[index];
        buf.clear();
        Some((buf, meta))
    }

    /// Gives back the slot taken by the last `push`.
    pub(crate) fn unpush(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    pub(crate) fn front(&self) -> Option<(&[T], &M)> {
        (self.len > 0).then(|| {
            let (buf, meta) = &self.slots[self.head];
            (buf.as_slice(), meta)
        })
    }

    pub(crate) fn pop(&mut self) {
        if self.len > 0 {
            self.head = (self.head + 1) % self.slots.len();
            self.len -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fills_drains_and_wraps_in_order() {
        let mut ring: SlotRing<u8, u32> = SlotRing::new(2, 4);
        for round in 0..5u8 {
            let (buf, meta) = ring.push().unwrap();
            buf.extend_from_slice(&[round; 3]);
            *meta = u32::from(round);
            let (buf, meta) = ring.push().unwrap();
            buf.push(round + 100);
            *meta = 7;
            assert!(ring.push().is_none());
            assert_eq!(ring.front().unwrap(), (&[round; 3][..], &u32::from(round)));
            ring.pop();
            assert_eq!(ring.front().unwrap().0, &[round + 100]);
            ring.pop();
            assert!(ring.front().is_none());
        }
    }

    #[test]
    fn unpush_returns_the_slot() {
        let mut ring: SlotRing<u8, ()> = SlotRing::new(1, 4);
        ring.push().unwrap();
        ring.unpush();
        assert!(ring.front().is_none());
        assert!(ring.push().is_some());
    }
}
