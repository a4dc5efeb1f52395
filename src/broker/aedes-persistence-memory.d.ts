// aedes-persistence ships the types of its async in-memory class under types/, not beside the file
declare module 'aedes-persistence/asyncPersistence.js' {
  import MemoryPersistence = require('aedes-persistence/types/asyncPersistence.js')
  export = MemoryPersistence
}
