//! Work spread over the machine's cores, each item's answer in the item's place.

/// How many threads [`map`] gives `items` items: the available cores, at most one per
/// item, and one below 8 items (a thread costs more than it saves there).
pub fn threads(items: usize) -> usize {
    if items < 8 {
        return 1;
    }
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items)
}

/// `f` of every item, on all available cores, in the items' order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let mut states = vec![(); threads(items.len())];
    map_with(items, &mut states, |(), item| f(item))
}

/// As [`map`], on one thread per state, each thread with its own state (a handle that one
/// thread at a time may use, such as an open repository), in the items' order. Contiguous
/// runs of items go to each thread. With one state (or none) the items are mapped here, on
/// the calling thread; with none, `f` has no state to run with and nothing is mapped.
pub fn map_with<T: Sync, S: Send, R: Send>(
    items: &[T],
    states: &mut [S],
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<R> {
    match states {
        [] => Vec::new(),
        [one] => items.iter().map(|item| f(one, item)).collect(),
        _ => {
            let chunk = items.len().div_ceil(states.len()).max(1);
            let f = &f;
            std::thread::scope(|scope| {
                let handles: Vec<_> = items
                    .chunks(chunk)
                    .zip(states.iter_mut())
                    .map(|(part, state)| {
                        scope.spawn(move || {
                            part.iter().map(|item| f(state, item)).collect::<Vec<R>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| {
                        h.join()
                            .unwrap_or_else(|e| std::panic::resume_unwind(e))
                            .into_iter()
                    })
                    .collect::<Vec<R>>()
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_keep_the_items_order() {
        let items: Vec<u32> = (0..1000).collect();
        assert_eq!(
            map(&items, |i| i * 2),
            items.iter().map(|i| i * 2).collect::<Vec<_>>()
        );
    }

    #[test]
    fn each_thread_has_its_own_state() {
        let items: Vec<u32> = (0..10).collect();
        let mut states = vec![Vec::new(), Vec::new(), Vec::new()];
        let out = map_with(&items, &mut states, |seen: &mut Vec<u32>, i| {
            seen.push(*i);
            i + 1
        });
        assert_eq!(out, (1..11).collect::<Vec<_>>());
        assert_eq!(states, vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
    }

    #[test]
    fn one_state_maps_here_and_none_maps_nothing() {
        let items = [1, 2, 3];
        let mut one = [0];
        assert_eq!(
            map_with(&items, &mut one, |n: &mut i32, i| {
                *n += 1;
                i * 10
            }),
            vec![10, 20, 30]
        );
        assert_eq!(one, [3]);
        let mut none: [(); 0] = [];
        assert!(map_with(&items, &mut none, |(), i| *i).is_empty());
        assert_eq!(threads(3), 1, "below 8 items: no thread");
    }
}
