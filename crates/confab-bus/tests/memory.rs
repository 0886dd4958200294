//! The bus and presence behaviour suites against the in-process backends.

use std::sync::Arc;

use confab_bus::testsuite::Fixture;
use confab_bus::{Bus, MemoryBus, MemoryPresence, PresenceRegistry};

async fn memory_bus() -> Fixture<dyn Bus> {
    Fixture {
        backend: Arc::new(MemoryBus::new()),
        guard: Box::new(()),
    }
}

async fn memory_presence() -> Fixture<dyn PresenceRegistry> {
    Fixture {
        backend: Arc::new(MemoryPresence::new()),
        guard: Box::new(()),
    }
}

confab_bus::bus_behaviour_suite!(memory_bus());
confab_bus::presence_behaviour_suite!(memory_presence());
